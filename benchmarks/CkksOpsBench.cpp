//===- CkksOpsBench.cpp - Whole CKKS operations, timed --------------------===//
//
// cerium-ckks-bench --log-n 16 --levels 24 --dnum 4 [--reps 5]
// Prints one JSON object: HMult (tensor + relinearize + double rescale),
// HRot (one rotation) at the top level, and a degree-15 polynomial compiled
// from a .fhe program and run on the same ring (its own depth), each the
// median of --reps runs; key generation time and the peak RSS.
// benchmarks/compare_openfhe.py runs it beside OpenFHE.
//
// cerium-ckks-bench --bootstrap K --log-n 16 [--reps 5]
// instead times the compiled bootstrap of all N/2 slots that leaves K levels
// of computation, as benchmarks/compare_bootstrap.py does: followed by K + s
// halvings, s the level the next bootstrap takes its input at (SlotToCoeff's
// levels when it comes first, else 0), so it refreshes to level K + s. At
// 128-bit unless --insecure: the median of --reps runs after one warm-up run
// (a GPU records its graph there), and its precision on inputs uniform in
// [-1, 1] (of 2^(K + s) times the output).
//
//===----------------------------------------------------------------------===//

#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/Evaluator.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/Compiler/Compiler.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Runtime/Backends.h"
#include "cerium/Runtime/Schedule.h"
#include "cerium/kernels/CpuBackend.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <map>

#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <functional>

using namespace cerium;

namespace {

double medianMs(int reps, const std::function<void()> &f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - a)
                    .count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

/// Milliseconds per kernel kind, summed over `reps` runs of `run` and
/// printed per run on stderr. With `shapes`, also the limb count of each
/// call's first result (odd counts are where limb-parallel kernels leave a
/// core idle).
void printProfile(const char *what, runtime::ScheduleExecutor &run,
                  const ckks::EvalKeys &keys, int reps, bool shapes) {
  std::map<std::string, std::pair<int, double>> perKernel;
  std::map<std::string, std::string> limbs;
  for (int rep = 0; rep < reps; ++rep)
    run.execute(keys, [&](size_t, size_t, mlir::Operation *op, double ms) {
      std::string name = op->getName().getStringRef().str();
      auto &entry = perKernel[name];
      ++entry.first;
      entry.second += ms;
      if (shapes && rep == 0 && op->getNumResults() > 0)
        if (auto t = mlir::dyn_cast<rns::LimbsType>(op->getResult(0).getType()))
          limbs[name] += " " + std::to_string(t.getPrimes().size());
    });
  for (auto &[kernel, entry] : perKernel)
    fmt::print(stderr, "{} {:18s} {:4d} calls {:8.2f} ms{}\n", what, kernel,
               entry.first / reps, entry.second / reps,
               shapes ? "  limbs:" + limbs[kernel] : std::string());
}

/// A .fhe program compiled and run in one process as the tools would:
/// its keys, `x` encrypted at its input level, the schedule on `device`.
class CompiledRun {
public:
  CompiledRun(const std::string &name, const std::string &source,
              mlir::MLIRContext &context, bool insecure,
              const std::string &backendName, int threads, Prng &prng,
              const std::vector<double> &x) {
    CompileOptions options;
    options.insecure = insecure;
    c = compile(std::make_shared<dsl::SourceFile>(name, source), context,
                options);
    client = kernels::createCpuBackend(c.params->rns(),
                                       kernels::CpuBackendOptions{threads});
    ckks::KeyGenerator keygen(c.params, *client, prng);
    sk = keygen.secretKey();
    auto pk = keygen.publicKey(sk);
    auto req = runtime::requiredKeys(c.main());
    keys =
        keygen.evalKeys(sk, req.relinearization, req.galois, req.encapsulation);
    mlir::FunctionType sig = runtime::ciphertextSignature(c.main());
    const unsigned level =
        mlir::cast<ckks::CiphertextType>(sig.getInput(0)).getLevel();
    ckks::Encoder encoder(c.params);
    ckks::Encryptor encryptor(c.params, *client);
    input = encryptor.encrypt(
        encoder.encode(x, c.params->levelScale(level), level, *client), pk,
        prng);
    device = runtime::createBackend(backendName, c.params->rns(), threads);
    run = std::make_unique<runtime::ScheduleExecutor>(c.main(), c.params,
                                                      *device);
    run->setInputs({input});
  }

  /// How a device keeps the constants (before the first run).
  void keepConstants(runtime::ScheduleExecutor::DeviceConstants form) {
    run->setDeviceConstants(form);
  }
  double medianMs(int reps) {
    return ::medianMs(reps, [&] { run->execute(keys); });
  }
  /// Milliseconds per kernel kind, averaged over `reps` runs, on stderr.
  void profile(const char *what, int reps) {
    printProfile(what, *run, keys, reps, false);
  }
  /// The real parts of the first output's slots, from a fresh run (a run
  /// may overwrite its inputs in the arena, so timed repeats compute on
  /// what the previous one left).
  std::vector<double> output() {
    run->setInputs({input});
    run->execute(keys);
    ckks::Encoder encoder(c.params);
    ckks::Encryptor encryptor(c.params, *client);
    auto slots =
        encoder.decode(encryptor.decrypt(run->outputs().at(0), sk), *client);
    std::vector<double> out;
    for (auto v : slots)
      out.push_back(v.real());
    return out;
  }
  std::string describe() const { return c.params->describe(); }

private:
  Compilation c;
  std::unique_ptr<kernels::RnsBackend> client, device;
  ckks::SecretKey sk;
  ckks::EvalKeys keys;
  ckks::Ciphertext input;
  std::unique_ptr<runtime::ScheduleExecutor> run;
};

/// --bootstrap K: see the header.
int benchBootstrap(unsigned logN, unsigned levelsAfter, bool insecure,
                   const std::string &backendName, int threads, int reps,
                   bool profile, const std::string &plaintexts) {
  const size_t slots = size_t(1) << (logN - 1);
  auto program = [&](unsigned halvings) {
    std::string text = fmt::format(
        "option ring_dim = {};\nfn main(x: cipher[{}]) -> cipher[{}] {{\n"
        "  let y = bootstrap(x);\n",
        size_t(1) << logN, slots, slots);
    for (unsigned k = 0; k < halvings; ++k)
      text += "  y = y * 0.5;\n";
    return text + "  return y;\n}\n";
  };
  mlir::MLIRContext context;
  loadCompilerDialects(context);
  // The level the next bootstrap would take the result at, from a compile
  // of the same program.
  CompileOptions probeOptions;
  probeOptions.insecure = insecure;
  const unsigned halvings =
      levelsAfter + compile(std::make_shared<dsl::SourceFile>(
                                "bootstrap.fhe", program(levelsAfter)),
                            context, probeOptions)
                        .bootstrapInputLevel;
  Prng prng;
  std::vector<double> x(slots);
  for (auto &v : x)
    v = 2 * prng.uniformReal() - 1;
  CompiledRun boot("bootstrap.fhe", program(halvings), context, insecure,
                   backendName, threads, prng, x);
  boot.keepConstants(plaintexts == "compact"
                         ? runtime::ScheduleExecutor::DeviceConstants::Compact
                         : runtime::ScheduleExecutor::DeviceConstants::Whole);
  boot.medianMs(1); // warm-up: caches, a GPU's recorded graph
  const double ms = boot.medianMs(reps);
  if (profile)
    boot.profile("bootstrap", reps);
  std::vector<double> y = boot.output();
  double sum = 0, worst = 0;
  for (size_t i = 0; i < slots; ++i) {
    double err = std::fabs(std::ldexp(y[i], int(halvings)) - x[i]);
    sum += err;
    worst = std::max(worst, err);
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  fmt::print("{{\"system\": \"cerium\", \"backend\": \"{}\", \"threads\": {}, "
             "\"plaintexts\": \"{}\", "
             "\"logN\": {}, \"levels_after\": {}, \"halvings\": {}, "
             "\"params\": \"{}\", "
             "\"bootstrap_ms\": {:.1f}, \"precision_mean_bits\": {:.2f}, "
             "\"precision_worst_bits\": {:.2f}, \"peak_rss_mib\": {:.0f}}}\n",
             backendName, threads > 0 ? threads : omp_get_max_threads(),
             plaintexts, logN, levelsAfter, halvings, boot.describe(), ms,
             -std::log2(sum / double(slots)), -std::log2(worst),
             double(usage.ru_maxrss) / 1024);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"cerium-ckks-bench: CKKS operations as compiled schedules"};
  ckks::ParamSpec spec;
  spec.logN = 16;
  spec.levels = 24;
  spec.dnum = 4;
  spec.scaleBits = 50;
  spec.baseBits = 60;
  int reps = 5, threads = 0;
  app.add_option("--log-n", spec.logN);
  app.add_option("--levels", spec.levels);
  app.add_option("--dnum", spec.dnum);
  app.add_option("--scale-bits", spec.scaleBits);
  app.add_option("--base-bits", spec.baseBits);
  app.add_option("--reps", reps);
  app.add_option("--threads", threads);
  app.add_flag("--insecure", spec.insecure);
  std::string backendName = "cpu";
  app.add_option("--backend", backendName,
                 "where the schedules run: cpu, cuda or auto");
  bool profile = false;
  app.add_flag("--profile", profile,
               "print the time per kernel of the HMult and HRot schedules");
  int bootstrapLevelsAfter = -1;
  app.add_option("--bootstrap", bootstrapLevelsAfter,
                 "time the compiled bootstrap of all slots, leaving this many "
                 "levels of computation before the next bootstrap's input "
                 "level, instead of the operations");
  std::string plaintexts = "whole";
  app.add_option("--plaintexts", plaintexts,
                 "with --bootstrap on a device: keep the constants whole "
                 "(encoded limbs) or compact (coefficients, made into limbs "
                 "at each use)")
      ->check(CLI::IsMember({"whole", "compact"}));
  CLI11_PARSE(app, argc, argv);
  try {
    if (bootstrapLevelsAfter >= 0)
      return benchBootstrap(spec.logN, unsigned(bootstrapLevelsAfter),
                            spec.insecure, backendName, threads, reps, profile,
                            plaintexts);
    auto params = ckks::Params::create(spec);
    // Client work (keys, encryption) and the Evaluator run on the CPU; the
    // schedules on `device`, timed without the host copies of their inputs
    // and outputs.
    auto backend = kernels::createCpuBackend(
        params->rns(), kernels::CpuBackendOptions{threads});
    auto device = runtime::createBackend(backendName, params->rns(), threads);
    Prng prng;
    ckks::KeyGenerator keygen(params, *backend, prng);
    ckks::SecretKey sk;
    ckks::PublicKey pk;
    ckks::EvalKeys keys;
    uint32_t g = ckks::galoisForRotation(*params, 1);
    double keygenMs = medianMs(1, [&] {
      sk = keygen.secretKey();
      pk = keygen.publicKey(sk);
      keys = keygen.evalKeys(sk, true, std::span(&g, 1));
    });
    ckks::Encoder encoder(params);
    ckks::Encryptor encryptor(params, *backend);
    ckks::Evaluator eval(params, *backend);
    std::vector<double> x(params->slots());
    for (auto &v : x)
      v = 2 * prng.uniformReal() - 1;
    const unsigned top = params->maxLevel();
    auto ct = encryptor.encrypt(
        encoder.encode(x, params->levelScale(top), top, *backend), pk, prng);
    // HMult and HRot as compiled schedules: ckks-level functions lowered
    // through poly and rns for this parameter set, what cerium-run executes.
    mlir::MLIRContext context;
    loadCompilerDialects(context);
    auto schedule = [&](const std::string &body, const std::string &result) {
      std::string ct = fmt::format("!ckks.ct<level = {}, degree = 1>", top);
      std::string text = fmt::format(
          "func.func @main(%a: {0}) -> {1} {{\n{2}\n  return %r : {1}\n}}\n",
          ct, result, body);
      auto module = mlir::parseSourceString<mlir::ModuleOp>(
          text, mlir::ParserConfig(&context));
      if (!module)
        throw Error("benchmark program does not parse");
      lowerToSchedule(*module, *params);
      return module;
    };
    auto hmultProgram = schedule(
        fmt::format(
            "  %m = ckks.mul %a, %a : !ckks.ct<level = {0}, degree = "
            "1>, !ckks.ct<level = {0}, degree = 1>\n"
            "  %l = ckks.relinearize %m : !ckks.ct<level = {0}, "
            "degree = 2, size = 3>\n"
            "  %r = ckks.rescale %l : !ckks.ct<level = {0}, degree = 2>",
            top),
        fmt::format("!ckks.ct<level = {}, degree = 1>", top - 1));
    auto hrotProgram = schedule(
        fmt::format("  %r = ckks.rotate %a by 1 : !ckks.ct<level = {}, "
                    "degree = 1>",
                    top),
        fmt::format("!ckks.ct<level = {}, degree = 1>", top));
    auto mainOf = [](mlir::ModuleOp m) {
      return m.lookupSymbol<mlir::func::FuncOp>("main");
    };
    runtime::ScheduleExecutor hmultRun(mainOf(*hmultProgram), params, *device);
    runtime::ScheduleExecutor hrotRun(mainOf(*hrotProgram), params, *device);
    hmultRun.setInputs({ct});
    hrotRun.setInputs({ct});
    double hmult = medianMs(reps, [&] { hmultRun.execute(keys); });
    double hrot = medianMs(reps, [&] { hrotRun.execute(keys); });
    if (profile)
      for (auto [name, run] :
           {std::pair{"HMult", &hmultRun}, std::pair{"HRot", &hrotRun}})
        printProfile(name, *run, keys, reps, true);
    // The same operations as the Evaluator's kernel sequences (the client
    // library's reference), for comparison.
    double hmultEvaluator = medianMs(reps, [&] {
      eval.rescale(eval.relinearize(eval.multiply(ct, ct), keys));
    });
    double hrotEvaluator = medianMs(reps, [&] { eval.rotate(ct, 1, keys); });

    // The degree-15 polynomial, through the compiler.
    std::string coeffs;
    for (int k = 0; k <= 15; ++k)
      coeffs += fmt::format("{}{}", k ? ", " : "", 1.0 / (k + 1));
    std::string program = fmt::format(
        "option ring_dim = {};\nfn main(x: cipher[{}]) -> cipher[{}] {{\n"
        "  return poly(x, [{}], range = [-1, 1]);\n}}\n",
        params->degree(), params->slots(), params->slots(), coeffs);
    CompiledRun polyRun("poly15.fhe", program, context, spec.insecure,
                        backendName, threads, prng, x);
    double poly = polyRun.medianMs(reps);
    if (profile)
      polyRun.profile("poly15", reps);

    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    fmt::print(
        "{{\"system\": \"cerium\", \"backend\": \"{}\", "
        "\"cpu_path\": \"{}\", \"threads\": {}, \"logN\": {}, \"levels\": {}, "
        "\"dnum\": {}, \"logQP\": {:.1f}, \"params\": \"{}\", "
        "\"keygen_ms\": {:.1f}, \"hmult_relin_rescale_ms\": {:.2f}, "
        "\"hrot_ms\": {:.2f}, \"hmult_evaluator_ms\": {:.2f}, "
        "\"hrot_evaluator_ms\": {:.2f}, \"poly15_ms\": {:.2f}, "
        "\"poly15_params\": \"{}\", \"peak_rss_mib\": {:.0f}}}\n",
        runtime::backendName(*device),
        kernels::cpuPathName(kernels::cpuPathOf(*backend)),
        threads > 0 ? threads : omp_get_max_threads(), spec.logN, spec.levels,
        spec.dnum, params->logQP(), params->describe(), keygenMs, hmult, hrot,
        hmultEvaluator, hrotEvaluator, poly, polyRun.describe(),
        double(usage.ru_maxrss) / 1024);
    return 0;
  } catch (const Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

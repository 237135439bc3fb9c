//===- cerium-run.cpp - The server: run a compiled program ----------------===//
//
// Holds the artifact, the evaluation keys and ciphertexts only: this process
// never opens a secret key (except --simulate, which plays both roles in one
// process by design and says so).
//
//===----------------------------------------------------------------------===//

#include "cerium/CKKS/Serialization.h"
#include "cerium/Compiler/Session.h"
#include "cerium/Runtime/Backends.h"
#include "cerium/Runtime/ReferenceEvaluator.h"
#include "cerium/Runtime/Schedule.h"
#include "cerium/Support/Container.h"
#include "cerium/kernels/CpuBackend.h"

#include "mlir/IR/MLIRContext.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace cerium;

namespace {

/// A progress line on a terminal for runs over a second (CLI.md), and the
/// per-op trace for --profile.
class RunObserver {
public:
  explicit RunObserver(std::string profilePath)
      : profilePath(std::move(profilePath)), tty(isatty(fileno(stderr))),
        start(std::chrono::steady_clock::now()) {}

  runtime::OpObserver callback() {
    return [this](size_t done, size_t total, mlir::Operation *op, double ms) {
      double elapsed = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      if (!profilePath.empty())
        events.push_back(
            {op->getName().getStringRef().str(), elapsed * 1e3 - ms, ms});
      if (tty && elapsed > 1.0) {
        double eta = elapsed / double(done) * double(total - done);
        std::fprintf(stderr, "\r%zu/%zu ops, %.1f s elapsed, ETA %.1f s   ",
                     done, total, elapsed, eta);
        shown = true;
      }
    };
  }
  void finish() {
    if (shown)
      std::fprintf(stderr, "\n");
    if (profilePath.empty())
      return;
    std::string json = "{\"traceEvents\": [\n";
    for (size_t i = 0; i < events.size(); ++i)
      json += fmt::format("{}{{\"name\": \"{}\", \"ph\": \"X\", "
                          "\"ts\": {:.1f}, \"dur\": {:.1f}, \"pid\": 1, "
                          "\"tid\": 1}}",
                          i ? ",\n" : "", events[i].name,
                          events[i].startMs * 1e3, events[i].ms * 1e3);
    json += "\n]}\n";
    writeFileAtomically(
        profilePath,
        std::span(reinterpret_cast<const uint8_t *>(json.data()), json.size()));
  }

private:
  struct Event {
    std::string name;
    double startMs, ms;
  };
  std::string profilePath;
  bool tty, shown = false;
  std::chrono::steady_clock::time_point start;
  std::vector<Event> events;
};

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"cerium-run: run a compiled program"};
  std::string program, evalKeys, in, output, backendName = "auto";
  std::vector<std::string> inputs;
  bool plain = false, approx = false, simulate = false;
  std::string profile;
  int threads = 0;
  app.add_option("program", program, "PROGRAM.cerium")->required();
  app.add_option("--eval-keys", evalKeys, "KEYDIR/eval.keys");
  app.add_option("--in", in, "INPUTS.ct");
  app.add_option("-o", output, "OUTPUTS.ct, or OUTDIR with --plain/--simulate")
      ->required();
  app.add_option("--backend", backendName, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_option("--threads", threads, "CPU worker threads (0: all)");
  app.add_flag("--plain", plain, "evaluate the reference meaning in float64");
  app.add_flag("--approx", approx,
               "with --plain: use the compiler's polynomials");
  app.add_flag("--simulate", simulate,
               "keygen, encrypt, run and decrypt in one process");
  app.add_option("--input", inputs, "NAME=FILE.npy (--plain, --simulate)");
  app.add_option("--profile", profile,
                 "write a per-op timing trace (Chrome trace JSON)");
  bool verbose = false;
  app.add_flag("--verbose", verbose,
               "print the backend and the CPU code path on stderr");
  CLI11_PARSE(app, argc, argv);

  try {
    if (approx && !plain)
      throw Error("--approx goes with --plain");
    mlir::MLIRContext context;
    Artifact artifact = readArtifact(program, context);
    if (plain) {
      // --approx: nonlinear functions and max/min by the compiler's
      // polynomials, which is what the encrypted run approximates.
      auto in = session::readInputs(artifact, session::parseInputArgs(inputs));
      runtime::ReferenceOptions options;
      options.approx = approx;
      options.precision = artifact.precision;
      session::writeOutputs(output, runtime::evaluateReference(
                                        artifact.referenceMain(), in, options));
      return 0;
    }
    // The client's work in --simulate (keys, encryption, decryption) uses
    // host memory, so it runs on the CPU; the schedule runs on `executor`.
    auto backend = kernels::createCpuBackend(
        artifact.params->rns(), kernels::CpuBackendOptions{threads});
    auto executor =
        runtime::createBackend(backendName, artifact.params->rns(), threads);
    executor->loadGeneratedKernels(artifact.cudaSource, artifact.cudaImage);
    if (verbose)
      std::fprintf(stderr, "backend: %s; CPU path: %s (CERIUM_CPU=%s)\n",
                   runtime::backendName(*executor).c_str(),
                   kernels::cpuPathName(kernels::cpuPathOf(*backend)),
                   std::getenv("CERIUM_CPU") ? std::getenv("CERIUM_CPU")
                                             : "unset");
    const ckks::Params &params = *artifact.params;
    if (simulate) {
      auto in = session::readInputs(artifact, session::parseInputArgs(inputs));
      Prng prng;
      auto t0 = std::chrono::steady_clock::now();
      session::KeySet keys = session::generateKeys(artifact, *backend, prng);
      auto cts = session::encryptInputs(artifact, in, keys.pub, *backend, prng);
      auto t1 = std::chrono::steady_clock::now();
      RunObserver observer(profile);
      auto outs =
          runtime::runSchedule(artifact.main(), artifact.params, *executor,
                               keys.eval, cts, observer.callback());
      observer.finish();
      auto t2 = std::chrono::steady_clock::now();
      auto got = session::decryptOutputs(artifact, outs, keys.secret, *backend);
      auto want = runtime::evaluateReference(artifact.referenceMain(), in);
      session::writeOutputs(output, got);
      double maxErr = 0;
      for (size_t i = 0; i < got.size(); ++i)
        for (size_t j = 0; j < got[i].values.size(); ++j)
          maxErr =
              std::max(maxErr, std::fabs(got[i].values[j] - want[i].values[j]));
      auto ms = [](auto a, auto b) {
        return std::chrono::duration<double, std::milli>(b - a).count();
      };
      std::printf("simulated client and server in one process (a demo, not "
                  "the deployment model)\n");
      std::printf("parameters: %s\n", params.describe().c_str());
      std::printf("keygen+encrypt %.1f ms, encrypted run %.1f ms (%s)\n",
                  ms(t0, t1), ms(t1, t2),
                  runtime::backendName(*executor) == "cpu" ? "CPU" : "CUDA");
      std::printf("max |encrypted - plaintext reference| = %.3e (precision "
                  "target %.1e): %s\n",
                  maxErr, artifact.precision,
                  maxErr <= artifact.precision ? "ok" : "EXCEEDED");
      return maxErr <= artifact.precision ? 0 : 2;
    }
    if (evalKeys.empty() || in.empty())
      throw Error("give --eval-keys KEYDIR/eval.keys and --in INPUTS.ct (or "
                  "--plain / --simulate)");
    ckks::Provenance keysFor, inputsFor;
    ckks::CiphertextRole role;
    ckks::EvalKeys keys = ckks::loadEvalKeys(evalKeys, params, &keysFor);
    session::checkProvenance(artifact, keysFor, evalKeys, "keys");
    session::checkEvalKeys(artifact, keys, evalKeys);
    auto cts = ckks::loadCiphertexts(in, params, &inputsFor, &role);
    session::checkRole(role, ckks::CiphertextRole::Inputs, in);
    session::checkProvenance(artifact, inputsFor, in, "ciphertexts",
                             keysFor.keySet, evalKeys);
    session::checkInputs(artifact, cts, in);
    RunObserver observer(profile);
    auto outs = runtime::runSchedule(artifact.main(), artifact.params,
                                     *executor, keys, cts, observer.callback());
    observer.finish();
    ckks::saveCiphertexts(output, params, outs, inputsFor,
                          ckks::CiphertextRole::Outputs);
    return 0;
  } catch (const Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

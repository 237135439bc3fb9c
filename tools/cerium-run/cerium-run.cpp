//===- cerium-run.cpp - The server: run a compiled program ----------------===//
//
// Holds the artifact, the evaluation keys and ciphertexts only: this process
// never opens a secret key (except --simulate, which plays both roles in one
// process by design and says so).
//
//===----------------------------------------------------------------------===//

#include "cerium/CKKS/Serialization.h"
#include "cerium/Compiler/Session.h"
#include "cerium/Dialect/CKKS/Transforms/Bootstrap.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/RNS/Transforms/Passes.h"
#include "cerium/Runtime/Backends.h"
#include "cerium/Runtime/Communicator.h"
#include "cerium/Runtime/ReferenceEvaluator.h"
#include "cerium/Runtime/Schedule.h"
#include "cerium/Runtime/StreamedKeys.h"
#include "cerium/Runtime/StreamedPlaintexts.h"
#include "cerium/Support/Container.h"
#include "cerium/kernels/CpuBackend.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#ifdef CERIUM_HAVE_CUDA
#include <cuda_runtime.h>
#endif
#include <omp.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

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
        events.push_back({eventName(op), originOf(op), elapsed * 1e3 - ms, ms});
      if (tty && elapsed > 1.0) {
        double eta = elapsed / double(done) * double(total - done);
        std::fprintf(stderr, "\r%zu/%zu ops, %.1f s elapsed, ETA %.1f s   ",
                     done, total, elapsed, eta);
        shown = true;
      }
    };
  }
  /// The evaluation's span (the schedule's run, between its ops' events),
  /// with the process's CPU time over it: on a loaded machine the ratio
  /// says how much of the span the run had the cores.
  void evaluationStarts() {
    evaluation.startMs = elapsedMs();
    cpuStartMs = cpuMs();
  }
  void evaluationEnds() {
    evaluation.ms = elapsedMs() - evaluation.startMs;
    evaluationCpuMs = cpuMs() - cpuStartMs;
  }
  /// Ends the progress line and writes the trace: with several processes,
  /// rank 0 writes every rank's events, one lane (tid) per rank.
  void finish(runtime::Communicator &world) {
    if (shown)
      std::fprintf(stderr, "\n");
    if (profilePath.empty())
      return;
    std::string lane = fmt::format(
        ",\n{{\"name\": \"evaluation\", \"ph\": \"X\", \"ts\": {:.1f}, "
        "\"dur\": {:.1f}, \"pid\": 1, \"tid\": {}, \"args\": "
        "{{\"cpu_ms\": {:.3f}}}}}",
        evaluation.startMs * 1e3, evaluation.ms * 1e3, world.rank(),
        evaluationCpuMs);
    for (const Event &e : events)
      lane += fmt::format(
          ",\n{{\"name\": \"{}\", \"ph\": \"X\", "
          "\"ts\": {:.1f}, \"dur\": {:.1f}, \"pid\": 1, "
          "\"tid\": {}{}}}",
          e.name, e.startMs * 1e3, e.ms * 1e3, world.rank(),
          e.origin.line
              ? fmt::format(", \"args\": {{\"line\": {}{}}}", e.origin.line,
                            e.origin.bootstrap ? ", \"bootstrap\": true" : "")
              : std::string());
    std::string lanes = gatherText(world, lane);
    if (world.rank() != 0)
      return;
    std::string json = "{\"traceEvents\": [\n";
    for (int r = 0; r < world.size(); ++r)
      json += fmt::format("{}{{\"name\": \"thread_name\", \"ph\": \"M\", "
                          "\"pid\": 1, \"tid\": {}, \"args\": {{\"name\": "
                          "\"rank {}\"}}}}",
                          r ? ",\n" : "", r, r);
    json += lanes + "\n]}\n";
    writeFileAtomically(
        profilePath,
        std::span(reinterpret_cast<const uint8_t *>(json.data()), json.size()));
  }

private:
  double elapsedMs() const {
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now() - start)
        .count();
  }
  static double cpuMs() {
    timespec t{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) * 1e-6;
  }
  /// The op's name; a gather says how many bytes it made whole.
  static std::string eventName(mlir::Operation *op) {
    std::string name = op->getName().getStringRef().str();
    if (auto gather = mlir::dyn_cast<rns::AllGatherOp>(op))
      name += fmt::format(
          " ({} limbs)", mlir::cast<rns::LimbsType>(gather.getInput().getType())
                             .getNumLimbs());
    return name;
  }
  /// Where an op comes from: the source line it was lowered from (0 if its
  /// location has none), so a trace can be summed per line of the program
  /// (a layer), and whether a bootstrap's expansion made it.
  struct Origin {
    unsigned line = 0;
    bool bootstrap = false;
  };
  static Origin originOf(mlir::Operation *op) {
    Origin o;
    // The whole location (a few nodes): the name may sit on either side of
    // the line in the walk's order.
    op->getLoc()->walk([&](mlir::Location l) {
      if (auto n = mlir::dyn_cast<mlir::NameLoc>(l))
        o.bootstrap |= n.getName() == ckks::BootstrapConfig::kLocationName;
      if (auto fl = mlir::dyn_cast<mlir::FileLineColLoc>(l); fl && !o.line)
        o.line = fl.getLine();
      return mlir::WalkResult::advance();
    });
    return o;
  }
  /// Every rank's text, concatenated in rank order (on every rank).
  static std::string gatherText(runtime::Communicator &world,
                                const std::string &mine) {
    std::vector<uint32_t> words((mine.size() + 3) / 4 + 1, 0);
    words[0] = uint32_t(mine.size());
    std::memcpy(words.data() + 1, mine.data(), mine.size());
    std::vector<size_t> counts(size_t(world.size()), 1);
    std::vector<uint32_t> sizes(counts.size());
    world.allGather(std::span<const uint32_t>(words.data(), 1), sizes, counts);
    size_t total = 0;
    for (size_t r = 0; r < counts.size(); ++r) {
      counts[r] = (sizes[r] + 3) / 4 + 1;
      total += counts[r];
    }
    std::vector<uint32_t> all(total);
    world.allGather(words, all, counts);
    std::string text;
    for (size_t r = 0, at = 0; r < counts.size(); at += counts[r++])
      text.append(reinterpret_cast<const char *>(all.data() + at + 1), all[at]);
    return text;
  }

  struct Event {
    std::string name;
    Origin origin;
    double startMs, ms;
  };
  std::string profilePath;
  bool tty, shown = false;
  std::chrono::steady_clock::time_point start;
  Event evaluation{"evaluation", {}, 0, 0};
  double cpuStartMs = 0, evaluationCpuMs = 0;
  std::vector<Event> events;
};

/// "3G", "512M", "1.5GiB", "4096" (bytes): powers of 1024.
size_t parseByteSize(const std::string &text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception &) {
    used = 0;
  }
  std::string unit = text.substr(used);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b'))
    unit.pop_back();
  if (unit.size() == 2 && (unit[1] == 'i' || unit[1] == 'I'))
    unit.pop_back();
  const std::string units = "KMGT";
  double scale = 1;
  if (unit.size() == 1 &&
      units.find(char(std::toupper(unit[0]))) != std::string::npos)
    scale =
        std::ldexp(1.0, 10 * int(1 + units.find(char(std::toupper(unit[0])))));
  else if (!unit.empty())
    used = 0;
  if (used == 0 || !(value > 0) || value * scale > 0x1p62)
    throw Error("--memory-limit " + text +
                ": expected a size such as 3G, 512M or 1.5GiB");
  return size_t(value * scale);
}

/// This process's resident memory now (64 MiB where /proc cannot say).
size_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  if (statm >> pages >> resident)
    return resident * size_t(::sysconf(_SC_PAGESIZE));
  return size_t(64) << 20;
}

std::string formatBytes(size_t bytes) {
  if (bytes < (1u << 20))
    return fmt::format("{:.1f} KiB", double(bytes) / (1 << 10));
  return fmt::format("{:.1f} MiB", double(bytes) / (1 << 20));
}

/// --gpus N on this host, checked before any process starts: one line
/// instead of N failing processes and mpirun's banners. Counting the
/// devices initializes CUDA, which reads CUDA_VISIBLE_DEVICES once: only a
/// process that then runs on them (N = 1) or starts others may count.
void checkGpuCount(int gpus) {
#ifdef CERIUM_HAVE_CUDA
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0)
    throw Error(fmt::format("--gpus {}: no usable CUDA device ({})", gpus,
                            err != cudaSuccess ? cudaGetErrorString(err)
                                               : "no CUDA device found"));
  if (count < gpus) {
    const char *visible = std::getenv("CUDA_VISIBLE_DEVICES");
    throw Error(fmt::format(
        "--gpus {}: this host has {} usable CUDA device{}{}", gpus, count,
        count == 1 ? "" : "s",
        visible ? fmt::format(" (CUDA_VISIBLE_DEVICES={})", visible) : ""));
  }
#else
  throw Error(fmt::format("--gpus {}: this build of Cerium has no CUDA "
                          "backend (configure with nvcc present)",
                          gpus));
#endif
}

/// One GPU per process of a run: the process's place on its host picks one
/// of the GPUs CUDA_VISIBLE_DEVICES names (the host's all when it is
/// unset), and the variable is narrowed to that one, so that the backend
/// and NCCL find it as device 0. Runs before anything in this process uses
/// CUDA, which reads the variable once. With too few GPUs named, --backend
/// cuda fails here; auto leaves this process none (it runs on the CPU, and
/// the processes' backend check reports the mix).
void chooseGpu(const runtime::Communicator &world, bool required) {
  const int place = world.localRank();
  const char *visible = std::getenv("CUDA_VISIBLE_DEVICES");
  if (!visible) {
    setenv("CUDA_VISIBLE_DEVICES", std::to_string(place).c_str(), 1);
    return;
  }
  std::vector<std::string> ids;
  std::istringstream list(visible);
  for (std::string id; std::getline(list, id, ',');)
    if (!id.empty())
      ids.push_back(id);
  if (size_t(place) < ids.size()) {
    setenv("CUDA_VISIBLE_DEVICES", ids[size_t(place)].c_str(), 1);
    return;
  }
  if (required)
    throw Error(fmt::format(
        "--backend cuda: this is process {} on its host (from 0), but "
        "CUDA_VISIBLE_DEVICES={} names {} GPU{}: one GPU per process",
        place, visible, ids.size(), ids.size() == 1 ? "" : "s"));
  setenv("CUDA_VISIBLE_DEVICES", "", 1);
}

/// mpirun ends every process of a run with SIGTERM when one of them fails
/// or dies. A process that has not said why it ends yet says so in one
/// line of its own (the line is made before, since a handler may only
/// write(2)); the default action then ends it as SIGTERM would have.
char terminatedLine[160];
size_t terminatedLength = 0;
volatile std::sig_atomic_t lineWritten = 0;

extern "C" void onTerminate(int signal) {
  if (!lineWritten) {
    lineWritten = 1;
    ssize_t ignored = ::write(STDERR_FILENO, terminatedLine, terminatedLength);
    (void)ignored;
  }
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

void sayWhyOnTerminate(const runtime::Communicator &world) {
  int length = std::snprintf(
      terminatedLine, sizeof terminatedLine,
      "error (process %d of %d): ended by mpirun (SIGTERM): another process "
      "of this run failed or died\n",
      world.rank(), world.size());
  terminatedLength =
      std::min(size_t(std::max(length, 0)), sizeof terminatedLine - 1);
  struct sigaction action = {};
  action.sa_handler = onTerminate;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
}

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
  // More threads than a machine has cores only slow the run down; past
  // thousands, thread creation fails inside the OpenMP runtime.
  app.add_option("--threads", threads, "CPU worker threads (0: all)")
      ->check(CLI::Range(0, 1024));
  app.add_flag("--plain", plain, "evaluate the reference meaning in float64");
  app.add_flag("--approx", approx,
               "with --plain: use the compiler's polynomials");
  app.add_flag("--simulate", simulate,
               "keygen, encrypt, run and decrypt in one process");
  app.add_option("--input", inputs,
                 "NAME=FILE.npy: every input with --plain / --simulate, "
                 "main's plain inputs otherwise");
  app.add_option("--profile", profile,
                 "write a per-op timing trace (Chrome trace JSON)");
  bool verbose = false;
  app.add_flag("--verbose", verbose,
               "also print the CERIUM_CPU setting on the run's line");
  std::string partition = "auto";
  app.add_option("--partition", partition,
                 "under mpirun: split the work by cost (auto), or every "
                 "group of ops limb-wise or by ciphertext")
      ->check(CLI::IsMember({"auto", "limbs", "ciphertexts"}));
  double commTimeout = 600;
  app.add_option("--comm-timeout", commTimeout,
                 "under mpirun: seconds any wait for the other processes "
                 "may take before the run fails")
      ->check(CLI::Range(1e-3, 1e6));
  std::string memoryLimit;
  app.add_option("--memory-limit", memoryLimit,
                 "bound on the run's memory (e.g. 3G, 512M): plaintext "
                 "constants and then keys beyond what fits are read from "
                 "the artifact and eval.keys as needed");
  std::string keyForm = "auto";
  app.add_option("--keys", keyForm,
                 "how the switching keys read from --eval-keys are held: "
                 "whole (both halves in memory), compact (the uniform "
                 "halves as their seeds, made again at each use: half the "
                 "key memory; CPU backend), or auto (compact on the CPU, "
                 "but the keys the run reuses most held whole while they "
                 "fit --memory-limit)")
      ->check(CLI::IsMember({"auto", "whole", "compact"}));
  std::string plaintextForm = "auto";
  app.add_option("--plaintexts", plaintextForm,
                 "how a GPU keeps the program's plaintext constants after "
                 "their first use: whole (encoded limbs: least work, most "
                 "memory), compact (their integer coefficients of one "
                 "period, made into limbs at each use), or auto (whole "
                 "while they fit in the device's memory beside the keys, "
                 "then compact); the CPU encodes each at its use")
      ->check(CLI::IsMember({"auto", "whole", "compact"}));
  int gpus = 0;
  app.add_option("--gpus", gpus,
                 "run on this many GPUs of this host: one process per GPU, "
                 "started through mpirun")
      ->check(CLI::Range(1, 1 << 16));
  CLI11_PARSE(app, argc, argv);
  // Host-side parallel work outside the kernels (expanding keys as they
  // load, the encoder's transform) keeps to --threads too.
  if (threads > 0)
    omp_set_num_threads(threads);
  const auto timeout = std::chrono::milliseconds(int64_t(commTimeout * 1e3));

  // --gpus N means the CUDA backend on N GPUs of this host: N = 1 in this
  // process, N > 1 as N copies of this command under mpirun (the only way
  // several GPUs run one program), each with --backend=cuda.
  if (gpus > 0) {
    if (backendName == "cpu") {
      std::fprintf(stderr, "error: --gpus runs on GPUs: drop --backend cpu\n");
      return 1;
    }
    backendName = "cuda";
  }
  if (gpus > 0 && !runtime::startedByMpirun()) {
    try {
      checkGpuCount(gpus);
    } catch (const Error &e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return 1;
    }
  }
  if (gpus > 1 && !runtime::startedByMpirun()) {
    std::vector<std::string> args = {"mpirun", "-np", std::to_string(gpus),
                                     argv[0]};
    // Each copy gets --backend=cuda instead of these two options.
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--gpus" || a == "--backend") {
        ++i;
        continue;
      }
      if (a.rfind("--gpus=", 0) == 0 || a.rfind("--backend=", 0) == 0)
        continue;
      args.push_back(a);
    }
    args.push_back("--backend=cuda");
    std::vector<char *> cargs;
    for (std::string &a : args)
      cargs.push_back(a.data());
    cargs.push_back(nullptr);
    execvp("mpirun", cargs.data());
    std::fprintf(stderr,
                 "error: --gpus %d needs mpirun (OpenMPI) on PATH: %s\n", gpus,
                 std::strerror(errno));
    return 1;
  }

  // Under mpirun every process runs this program on its share of the
  // schedule; alone, the world is this process.
  std::unique_ptr<runtime::Communicator> world;
  try {
    world = runtime::startedByMpirun() ? runtime::createMpiCommunicator(timeout)
                                       : runtime::createLocalCommunicator();
  } catch (const Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  const int ranks = world->size();
  const bool leader = world->rank() == 0;
  if (ranks > 1)
    sayWhyOnTerminate(*world);

  try {
    if (gpus > 0 && gpus != ranks)
      throw Error(fmt::format("--gpus {} under mpirun with {} process{}: "
                              "give one GPU per process (or only --gpus)",
                              gpus, ranks, ranks == 1 ? "" : "es"));
    // Before anything in this process uses CUDA.
    if (ranks > 1 && backendName != "cpu")
      chooseGpu(*world, backendName == "cuda");
    if (approx && !plain)
      throw Error("--approx goes with --plain");
    mlir::MLIRContext context;
    Artifact artifact = readArtifact(program, context);
    if (ranks > 1 && !plain) {
      // The artifact is partitioned here, for the processes of this run:
      // the same artifact and keys serve any number of them.
      mlir::PassManager pm(&context);
      rns::PartitionOptions options;
      options.ranks = ranks;
      options.mode = partition;
      pm.addNestedPass<mlir::func::FuncOp>(rns::createPartitionPass(options));
      // Then this process's memory: the arrays of its limb-wise work hold
      // only its primes' limbs.
      pm.addNestedPass<mlir::func::FuncOp>(
          rns::createPlanMemoryPass(world->rank()));
      if (mlir::failed(pm.run(*artifact.program)))
        throw Error("cannot partition the program over " +
                    std::to_string(ranks) + " processes");
    }
    if (plain) {
      // --approx: nonlinear functions and max/min by the compiler's
      // polynomials, which is what the encrypted run approximates.
      auto in = session::readInputs(artifact, session::parseInputArgs(inputs));
      runtime::ReferenceOptions options;
      options.approx = approx;
      options.precision = artifact.precision;
      auto values =
          runtime::evaluateReference(artifact.referenceMain(), in, options);
      // As for an encrypted run: no output unless every process got here.
      world->barrier();
      if (leader)
        session::writeOutputs(output, values);
      return 0;
    }
    // The client's work in --simulate (keys, encryption, decryption) uses
    // host memory, so it runs on the CPU; the schedule runs on `executor`.
    auto backend = kernels::createCpuBackend(
        artifact.params->rns(), kernels::CpuBackendOptions{threads});
    std::unique_ptr<kernels::RnsBackend> executor;
    try {
      executor =
          runtime::createBackend(backendName, artifact.params->rns(), threads);
    } catch (const Error &e) {
      // Which GPU this process was given (chooseGpu) is part of the story.
      if (ranks == 1 || backendName != "cuda")
        throw;
      throw Error(fmt::format("{}; this is process {} on its host, given "
                              "CUDA_VISIBLE_DEVICES={}",
                              e.what(), world->localRank(),
                              std::getenv("CUDA_VISIBLE_DEVICES")));
    }
    executor->loadGeneratedKernels(artifact.cudaSource, artifact.cudaImage);
    // Limbs move between GPUs over NCCL; MPI only started the processes
    // (and still carries the profile).
    if (ranks > 1) {
      // Every process must run the same backend: their collectives differ
      // (NCCL or MPI) and would not meet.
      std::vector<uint32_t> cuda(static_cast<size_t>(ranks));
      const uint32_t mine = runtime::backendName(*executor) == "cuda";
      std::vector<size_t> ones(static_cast<size_t>(ranks), 1);
      world->allGather(std::span(&mine, 1), cuda, ones);
      if (std::count(cuda.begin(), cuda.end(), mine) != ranks)
        throw Error("the processes would run on different backends (a GPU "
                    "for some, the CPU for others): give --backend, and as "
                    "many GPUs as processes for cuda");
    }
    std::unique_ptr<runtime::Communicator> gpuLink;
    if (ranks > 1 && runtime::backendName(*executor) == "cuda")
      gpuLink = runtime::createNcclCommunicator(*world, 0, timeout);
    runtime::Communicator *link = gpuLink ? gpuLink.get() : world.get();
    // CLI.md: one line saying what the run runs on, once its inputs are
    // known to be good (errors stay one line).
    std::string keyNote;    // set when keys are held compact
    std::string streamNote; // set when plaintexts or keys are streamed
    auto announce = [&] {
      if (!leader)
        return;
      std::string line =
          fmt::format("cerium-run: {} backend, CPU path {}",
                      runtime::backendName(*executor),
                      kernels::cpuPathName(kernels::cpuPathOf(*backend)));
      if (verbose)
        line += fmt::format(" (CERIUM_CPU={})", std::getenv("CERIUM_CPU")
                                                    ? std::getenv("CERIUM_CPU")
                                                    : "unset");
      line += ranks > 1 ? fmt::format(", {} processes ({}, {} partition)",
                                      ranks, link->transport(), partition)
                        : ", 1 process";
      line += keyNote + streamNote;
      std::fprintf(stderr, "%s\n", line.c_str());
    };
    const ckks::Params &params = *artifact.params;
    if (simulate) {
      auto in = session::readInputs(artifact, session::parseInputArgs(inputs));
      session::bindPlainInputs(artifact, in);
      // Every process plays the client with the same randomness, so that
      // all hold the same keys and ciphertexts.
      PrngSeed seed = Prng().nextSeed();
      world->broadcast(seed, 0);
      Prng prng(seed, 0);
      auto t0 = std::chrono::steady_clock::now();
      session::KeySet keys = session::generateKeys(artifact, *backend, prng);
      auto cts = session::encryptInputs(artifact, in, keys.pub, *backend, prng);
      auto t1 = std::chrono::steady_clock::now();
      RunObserver observer(profile);
      announce();
      runtime::SectionPlaintexts constants(artifact.constants);
      observer.evaluationStarts();
      auto outs = runtime::runSchedule(artifact.main(), artifact.params,
                                       *executor, keys.eval, cts,
                                       observer.callback(), link, &constants);
      observer.evaluationEnds();
      observer.finish(*world);
      auto t2 = std::chrono::steady_clock::now();
      // No output unless every process got through its share (a failure
      // after the last gather ends the run here).
      world->barrier();
      if (!leader)
        return 0;
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
    auto keyFile =
        std::make_shared<const ckks::EvalKeyFile>(evalKeys, params, &keysFor);
    session::checkProvenance(artifact, keysFor, evalKeys, "keys");
    session::checkEvalKeys(artifact, *keyFile, evalKeys);
    auto cts = ckks::loadCiphertexts(in, params, &inputsFor, &role);
    session::checkRole(role, ckks::CiphertextRole::Inputs, in);
    session::checkProvenance(artifact, inputsFor, in, "ciphertexts",
                             keysFor.keySet, evalKeys);
    session::checkInputs(artifact, cts, in);
    // main's plain inputs: the server's own run-time plaintexts.
    session::bindPlainInputs(
        artifact, session::readInputs(artifact, session::parseInputArgs(inputs),
                                      session::InputKinds::Plain));
    // Each process holds only what its share of the schedule uses; under
    // --memory-limit, keys that do not fit beside the arena are streamed.
    ckks::KeySelection selection =
        runtime::keySelection(artifact.main(), world->rank());
    // Compact keys make their uniform halves on the CPU as they are used
    // (AES-256-CTR at 10-20 GB/s per core: a few percent of a run): auto holds
    // them so on the CPU backend, and holds the keys the run reuses most
    // whole all the same (runtime::reusedKeys) while they fit.
    const bool onCpu = runtime::backendName(*executor) == "cpu";
    if (keyForm == "compact" && !onCpu)
      throw Error("--keys compact needs the CPU backend (the " +
                  runtime::backendName(*executor) +
                  " backend holds keys whole)");
    selection.uniformAtUse =
        keyForm == "compact" || (keyForm == "auto" && onCpu);
    if (keyForm == "auto" && onCpu)
      selection.keepWhole = runtime::reusedKeys(artifact.main());
    auto keyBytesHeld = [&] {
      size_t bytes = 0;
      for (const ckks::KeyName &name : keyFile->names())
        bytes += runtime::StreamedKeys::heldBytes(*keyFile, name, selection);
      return bytes;
    };
    std::unique_ptr<runtime::StreamedKeys> streamed;
    // The constants' values are read from the mapped artifact as the run
    // uses them; their pages stay unless they are streamed.
    std::unique_ptr<runtime::PlaintextSource> plaintexts =
        std::make_unique<runtime::SectionPlaintexts>(artifact.constants);
    if (!memoryLimit.empty()) {
      const size_t limit = parseByteSize(memoryLimit);
      size_t keyBytes = keyBytesHeld();
      // What else the run holds: what this process holds now (code, the
      // program, the input ciphertexts), the arena, the outputs (as large
      // as the inputs, about) and the kernels' tables (an allowance).
      size_t fixed =
          residentBytes() + runtime::arenaBytes(artifact.main()) + (32u << 20);
      for (const ckks::Ciphertext &ct : cts)
        fixed += ct.value.data.size() * sizeof(uint32_t);
      // Constants stream first (a copy out of the file per use costs less
      // than a key's reading and expansion), in the room the keys leave,
      // at least the least window and at most 64 MiB (enough to read
      // ahead).
      // (A file read by copy holds them already: residentBytes counts it.)
      const size_t constantBytes =
          artifact.file->mapped ? artifact.constants.size() : 0;
      size_t constantsHeld = constantBytes;
      if (fixed + constantBytes + keyBytes > limit) {
        const size_t least =
            runtime::StreamedPlaintexts::minimumBudget(artifact.main());
        const size_t room =
            limit > fixed + keyBytes ? limit - fixed - keyBytes : 0;
        const size_t window =
            std::clamp(room, least, std::max(least, size_t(64) << 20));
        if (window < constantBytes) {
          plaintexts = std::make_unique<runtime::StreamedPlaintexts>(
              artifact.main(), world->rank(),
              std::shared_ptr<const MappedContainer>(
                  artifact.file, artifact.file->mapped.get()),
              artifact.constants, window);
          constantsHeld = window;
          streamNote = ", plaintexts streamed within " + formatBytes(window) +
                       " (of " + formatBytes(constantBytes) + ")";
        }
      }
      // Auto's reused whole keys go compact before any key streams.
      if (fixed + constantsHeld + keyBytes > limit &&
          !selection.keepWhole.empty()) {
        selection.keepWhole.clear();
        keyBytes = keyBytesHeld();
      }
      const size_t least =
          runtime::StreamedKeys::minimumBudget(*keyFile, selection);
      if (fixed + constantsHeld + keyBytes > limit) {
        if (fixed + constantsHeld + least > limit)
          throw Error("--memory-limit " + memoryLimit +
                      " is too small for this program: the process, its "
                      "arena and ciphertexts take " +
                      formatBytes(fixed) + ", its plaintext constants " +
                      formatBytes(constantsHeld) + " and streaming its keys " +
                      formatBytes(least));
        fixed += constantsHeld;
        streamed = std::make_unique<runtime::StreamedKeys>(
            artifact.main(), world->rank(), keyFile, selection, limit - fixed);
        streamNote += ", keys streamed within " + formatBytes(limit - fixed) +
                      " (of " + formatBytes(keyBytes) + ")";
      }
    }
    if (selection.uniformAtUse)
      keyNote = selection.keepWhole.empty()
                    ? ", keys compact"
                    : ", keys compact (" +
                          std::to_string(selection.keepWhole.size()) +
                          " reused whole)";
    const size_t keyBytes = keyBytesHeld();
    ckks::EvalKeys keys;
    if (!streamed)
      keys = ckks::readEvalKeys(*keyFile, &selection);
    keyFile.reset(); // the streamed keys keep their own reference
    announce();
    runtime::ScheduleExecutor schedule(artifact.main(), artifact.params,
                                       *executor, link);
    schedule.setPlaintexts(plaintexts.get());
    if (!onCpu) {
      // The arena is allocated; the keys reach the device during the first
      // run: auto keeps constants whole in what is left beside them (and a
      // margin for the kernels' tables and scratch).
      using Form = runtime::ScheduleExecutor::DeviceConstants;
      const size_t margin = size_t(1) << 30, free = executor->freeMemory();
      size_t budget = free > keyBytes + margin ? free - keyBytes - margin : 0;
      if (!memoryLimit.empty()) {
        // The limit bounds the whole run: the arena and keys come first.
        const size_t limit = parseByteSize(memoryLimit),
                     taken = runtime::arenaBytes(artifact.main()) + keyBytes;
        budget = std::min(budget, limit > taken ? limit - taken : 0);
      }
      schedule.setDeviceConstants(plaintextForm == "whole"     ? Form::Whole
                                  : plaintextForm == "compact" ? Form::Compact
                                                               : Form::Auto,
                                  budget);
      // Past the device's memory (or the limit less the arena), keys and
      // constants are copied from the host at each use.
      size_t room = free > margin ? free - margin : 0;
      if (!memoryLimit.empty()) {
        const size_t limit = parseByteSize(memoryLimit),
                     arena = runtime::arenaBytes(artifact.main());
        room = std::min(room, limit > arena ? limit - arena : 0);
      }
      schedule.setDeviceBudget(room);
    }
    // The trace covers the evaluation: the arena is allocated and its pages
    // faulted in (touchPages) before, as a server keeping its arena between
    // requests has it.
    RunObserver observer(profile);
    schedule.setInputs(cts);
    observer.evaluationStarts();
    if (streamed)
      schedule.execute(*streamed, observer.callback());
    else
      schedule.execute(keys, observer.callback());
    observer.evaluationEnds();
    auto outs = schedule.outputs();
    observer.finish(*world);
    // Process 0 writes the outputs only once every process got through its
    // share: one that failed or hung after the last gather ends the run
    // here, with no output written. (After this only the exit is left,
    // whose wait for the others is bounded too: MpiCommunicator.)
    world->barrier();
    if (leader)
      ckks::saveCiphertexts(output, params, outs, inputsFor,
                            ckks::CiphertextRole::Outputs);
    return 0;
  } catch (const std::exception &e) {
    // cerium::Error, and what the libraries throw (out of memory, threads).
    if (ranks == 1) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return 1;
    }
    // The others may wait on this process: end them all now. This line
    // says why; the SIGTERM that mpirun may send meanwhile adds none.
    lineWritten = 1;
    std::fprintf(stderr, "error (process %d of %d): %s\n", world->rank(), ranks,
                 e.what());
    std::fflush(stderr);
    world->abort(1);
  }
}

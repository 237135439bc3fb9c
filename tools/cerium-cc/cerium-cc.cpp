//===- cerium-cc.cpp - The .fhe compiler driver ---------------------------===//
//
// Front end, fhe -> ckks lowering, parameter choice, artifact. The poly and
// rns levels are the next steps of the compiler issue: `--emit poly|rns|
// cuda|stats` say so clearly instead of crashing.
//
//===----------------------------------------------------------------------===//

#include "cerium/Compiler/Artifact.h"
#include "cerium/Compiler/CudaTarget.h"
#include "cerium/Compiler/Estimate.h"
#include "cerium/Compiler/Stats.h"
#include "cerium/Runtime/Schedule.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <optional>

int main(int argc, char **argv) {
  CLI::App app{"cerium-cc: compile a .fhe program"};
  std::string input, output, emit, target = "cpu", estimateTarget;
  std::vector<std::string> opts;
  bool insecure = false;
  app.add_option("program", input, "the .fhe program")->required();
  app.add_option("-o", output, "the artifact to write");
  app.add_option("--emit", emit, "print the program at a level instead")
      ->check(CLI::IsMember({"fhe", "ckks", "poly", "rns", "cuda", "stats"}));
  app.add_option("--target", target, "code to generate")
      ->check(CLI::IsMember({"cpu", "cuda", "all"}));
  app.add_option("--opt", opts, "override an option: KEY=VALUE");
  app.add_option("--estimate", estimateTarget,
                 "print projected latency, memory and bytes moved on cpu "
                 "(this host) or a GPU model: A100, H100, H200, B200; xN: "
                 "N devices or processes, split as cerium-run splits it");
  app.add_flag("--insecure", insecure,
               "allow parameters below 128-bit security (tests only)");
  CLI11_PARSE(app, argc, argv);

  try {
    cerium::CompileOptions options;
    options.insecure = insecure;
    options.stopAfter = emit == "fhe"    ? cerium::Stage::Fhe
                        : emit == "ckks" ? cerium::Stage::Ckks
                        : emit == "poly" ? cerium::Stage::Poly
                                         : cerium::Stage::Rns;
    for (const std::string &kv : opts) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw cerium::Error("--opt " + kv + ": expected KEY=VALUE");
      options.overrides[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    std::optional<cerium::EstimateTarget> where;
    if (!estimateTarget.empty())
      where = cerium::parseEstimateTarget(estimateTarget);
    auto source = cerium::dsl::SourceFile::read(input);
    mlir::MLIRContext context;
    // Diagnostics of the lowerings point into the source like the front
    // end's: file:line:col, the message, the line and a caret.
    mlir::ScopedDiagnosticHandler diagnostics(
        &context, [&](mlir::Diagnostic &d) {
          std::string message;
          llvm::raw_string_ostream os(message);
          os << d;
          cerium::dsl::SourceLoc where;
          if (auto fl = mlir::dyn_cast<mlir::FileLineColLoc>(d.getLocation()))
            where = {fl.getLine(), fl.getColumn()};
          std::fprintf(stderr, "%s\n", source->format(where, message).c_str());
          return mlir::success();
        });
    cerium::Compilation c = [&] {
      try {
        return cerium::compile(source, context, options);
      } catch (const cerium::Error &e) {
        // A failed lowering has already printed its diagnostic.
        if (std::string(e.what()).ends_with(": compilation failed"))
          std::exit(1);
        throw;
      }
    }();
    if (!estimateTarget.empty()) {
      if (!emit.empty() && emit != "rns")
        throw cerium::Error("cerium-cc: --estimate works on the planned "
                            "schedule: drop --emit " +
                            emit);
      std::fputs(cerium::estimateReport(
                     cerium::estimate(c.main(), c.params, *where))
                     .c_str(),
                 stdout);
      if (output.empty())
        return 0;
    }
    if (emit == "stats") {
      std::fputs(cerium::statsReport(c).c_str(), stdout);
      return 0;
    }
    if (emit == "cuda") {
      llvm::outs() << cerium::runtime::generateCudaKernels(c.main(), *c.params);
      return 0;
    }
    if (!emit.empty()) {
      if (c.params)
        llvm::outs() << "// parameters: " << c.params->describe() << "\n";
      c.program.module->print(llvm::outs());
      llvm::outs() << "\n";
      return 0;
    }
    if (output.empty())
      throw cerium::Error("cerium-cc: give -o PROGRAM.cerium or --emit LEVEL");
    std::string cudaSource;
    std::vector<uint8_t> cudaImage;
    if (target != "cpu") {
      // The CPU interprets the same kernels (--target all = cuda here).
      cudaSource = cerium::runtime::generateCudaKernels(c.main(), *c.params);
      std::string nvcc = cerium::findNvcc();
      if (nvcc.empty())
        std::fprintf(stderr, "note: nvcc not found: the CUDA kernels will be "
                             "compiled with NVRTC when the program is "
                             "loaded\n");
      else
        cudaImage =
            cerium::compileFatbin(cudaSource, nvcc, cerium::kCudaArchitectures);
    }
    cerium::Artifact artifact = cerium::makeArtifact(c);
    artifact.cudaSource = std::move(cudaSource);
    artifact.cudaImage = std::move(cudaImage);
    if (artifact.params->insecure())
      std::fprintf(stderr, "warning: INSECURE parameters (below 128-bit "
                           "security), for testing only\n");
    cerium::writeArtifact(output, artifact);
    return 0;
  } catch (const cerium::Error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

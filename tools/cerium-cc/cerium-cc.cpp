//===- cerium-cc.cpp - The .fhe compiler driver ---------------------------===//
//
// Today: front end to the fhe dialect (`--emit fhe`). The lowerings below it
// (ckks, poly, rns, artifact) are the next stages of the compiler issue;
// asking for them is a clear error, not a crash.
//
//===----------------------------------------------------------------------===//

#include "cerium/Conversion/FHEToCKKS.h"
#include "cerium/DSL/Parser.h"
#include "cerium/DSL/Sema.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char **argv) {
  CLI::App app{"cerium-cc: compile a .fhe program"};
  std::string input, output, emit, target = "cpu";
  std::vector<std::string> opts;
  bool insecure = false;
  app.add_option("program", input, "the .fhe program")->required();
  app.add_option("-o", output, "the artifact to write");
  app.add_option("--emit", emit, "print the program at a level instead")
      ->check(CLI::IsMember({"fhe", "ckks", "poly", "rns", "cuda", "stats"}));
  app.add_option("--target", target, "code to generate")
      ->check(CLI::IsMember({"cpu", "cuda", "all"}));
  app.add_option("--opt", opts, "override an option: KEY=VALUE");
  app.add_flag("--insecure", insecure,
               "allow parameters below 128-bit security (tests only)");
  CLI11_PARSE(app, argc, argv);

  try {
    std::map<std::string, std::string> overrides;
    for (const std::string &kv : opts) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw cerium::Error("--opt " + kv + ": expected KEY=VALUE");
      overrides[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    mlir::MLIRContext context;
    context.loadDialect<cerium::fhe::FHEDialect, cerium::ckks::CKKSDialect,
                        mlir::func::FuncDialect>();
    auto source = cerium::dsl::SourceFile::read(input);
    // Diagnostics of the lowerings point into the source like the front
    // end's: file:line:col, the message, the line and a caret.
    mlir::ScopedDiagnosticHandler diagnostics(&context, [&](mlir::Diagnostic &d) {
      std::string message;
      llvm::raw_string_ostream os(message);
      os << d;
      cerium::dsl::SourceLoc where;
      if (auto fl = mlir::dyn_cast<mlir::FileLineColLoc>(d.getLocation()))
        where = {fl.getLine(), fl.getColumn()};
      std::fprintf(stderr, "%s\n", source->format(where, message).c_str());
      return mlir::success();
    });
    cerium::dsl::Program program = cerium::dsl::parse(source);
    cerium::dsl::FheProgram fhe =
        cerium::dsl::buildFhe(program, context, overrides, insecure);
    if (emit == "fhe") {
      fhe.module->print(llvm::outs());
      llvm::outs() << "\n";
      return 0;
    }
    mlir::PassManager pm(&context);
    pm.addPass(cerium::createFheToCkksPass(fhe.options.slots));
    if (mlir::failed(pm.run(*fhe.module)))
      return 1; // the diagnostic handler printed the reason
    if (emit == "ckks") {
      fhe.module->print(llvm::outs());
      llvm::outs() << "\n";
      return 0;
    }
    throw cerium::Error(
        input + ": not yet supported: compiling below the ckks dialect (" +
        (emit.empty() ? std::string("artifact") : "--emit " + emit) +
        "); --emit fhe and --emit ckks work today");
  } catch (const cerium::Error &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}

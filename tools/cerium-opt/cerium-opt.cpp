//===- cerium-opt.cpp - mlir-opt with Cerium's dialects and passes --------===//
//
// Registers only what Cerium uses (its own dialects and func), not every
// upstream dialect: that keeps the binary and the build small.
//
//===----------------------------------------------------------------------===//

#include "cerium/Conversion/CKKSToPoly.h"
#include "cerium/Conversion/FHEToCKKS.h"
#include "cerium/Conversion/PolyToRNS.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/CKKS/Transforms/Passes.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/Dialect/FHE/Transforms/Passes.h"
#include "cerium/Dialect/Poly/IR/PolyDialect.h"
#include "cerium/Dialect/Poly/Transforms/Passes.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/RNS/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<cerium::ckks::CKKSDialect, cerium::fhe::FHEDialect,
                  cerium::poly::PolyDialect, cerium::rns::RNSDialect,
                  mlir::func::FuncDialect>();
  cerium::fhe::registerFhePasses();
  cerium::registerFheToCkksPass();
  cerium::ckks::registerCkksPasses();
  cerium::registerCkksToPolyPass();
  cerium::poly::registerPolyPasses();
  cerium::registerPolyToRnsPass();
  cerium::rns::registerRnsPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Cerium optimizer driver\n", registry));
}

// RUN: cerium-opt %s --fhe-to-ckks -split-input-file | FileCheck %s
// fhe.bootstrap becomes ckks.bootstrap (BootstrapLowering) with its result
// at the top level of the chain; ckks-place-bootstraps later lowers it to
// the level its uses need. The chain is only as deep as the deepest
// segment between bootstraps: x * x, then (bootstrapped) its product with x,
// one level each, so one level, not two. (Multi-ciphertext tensors:
// multi-ct-ops.mlir.)

// CHECK: module attributes {ckks.levels = 1 : i64, ckks.slots = 8 : i64}
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: !ckks.ct<level = 1, degree = 1> {fhe.shape = array<i64: 6>})
// CHECK-NEXT: ckks.mul %[[X]], %[[X]]
// CHECK-NEXT: ckks.relinearize
// CHECK-NEXT: %[[P:.*]] = ckks.rescale
// CHECK-NEXT: %[[B:.*]] = ckks.bootstrap %[[P]] : <level = 0, degree = 1> -> <level = 1, degree = 1>
// CHECK-NEXT: ckks.mul %[[B]], %[[X]] : <level = 1, degree = 1>, <level = 1, degree = 1>
// CHECK-NEXT: ckks.relinearize
// CHECK-NEXT: %[[Q:.*]] = ckks.rescale
// CHECK-NEXT: return %[[Q]] : !ckks.ct<level = 0, degree = 1>
func.func @main(%x: !fhe.cipher<[6]>) -> !fhe.cipher<[6]> {
  %p = fhe.mul %x, %x : (!fhe.cipher<[6]>, !fhe.cipher<[6]>) -> !fhe.cipher<[6]>
  %b = fhe.bootstrap %p : !fhe.cipher<[6]> -> !fhe.cipher<[6]>
  %q = fhe.mul %b, %x : (!fhe.cipher<[6]>, !fhe.cipher<[6]>) -> !fhe.cipher<[6]>
  return %q : !fhe.cipher<[6]>
}

// -----

// Two bootstraps in a row and one of a fresh input: each is one
// ckks.bootstrap (none is dropped here), each result at the top.
// CHECK: module attributes {ckks.levels = 1 : i64, ckks.slots = 4 : i64}
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: !ckks.ct<level = 1, degree = 1> {fhe.shape = array<i64: 4>})
// CHECK-NEXT: %[[B0:.*]] = ckks.bootstrap %[[X]] : <level = 1, degree = 1> -> <level = 1, degree = 1>
// CHECK-NEXT: %[[B1:.*]] = ckks.bootstrap %[[B0]] : <level = 1, degree = 1> -> <level = 1, degree = 1>
// CHECK-NEXT: ckks.mul_const %[[B1]] by 2.000000e+00
// CHECK-NEXT: ckks.rescale
// CHECK-NOT: ckks.bootstrap
// CHECK: return
func.func @main(%x: !fhe.cipher<[4]>) -> !fhe.cipher<[4]> {
  %a = fhe.bootstrap %x : !fhe.cipher<[4]> -> !fhe.cipher<[4]>
  %b = fhe.bootstrap %a : !fhe.cipher<[4]> -> !fhe.cipher<[4]>
  %c = fhe.constant [2.0] : tensor<1xf64>
  %y = fhe.mul %b, %c : (!fhe.cipher<[4]>, tensor<1xf64>) -> !fhe.cipher<[4]>
  return %y : !fhe.cipher<[4]>
}

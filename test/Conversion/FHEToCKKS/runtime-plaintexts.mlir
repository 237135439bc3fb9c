// RUN: cerium-opt %s --fhe-to-ckks -split-input-file -verify-diagnostics | FileCheck %s
// main's plain parameters are run-time plaintexts: the signature keeps only
// the ciphertexts, and each encode of their values holds signed 1-based
// indices of the argument's elements (`input` names the argument), which
// the runtime replaces by the values it is given.

// x * -p: the negation is the indices' sign.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%arg0: !ckks.ct<level = 1, degree = 1> {fhe.shape = array<i64: 4>})
// CHECK: %[[P:.*]] = ckks.encode f32 [-1.000000e+00, -2.000000e+00, -3.000000e+00, -4.000000e+00] input 1
// CHECK: ckks.mul_plain %arg0, %[[P]]
func.func @main(%x: !fhe.cipher<[4]>, %p: tensor<4xf64>) -> !fhe.cipher<[4]> {
  %n = fhe.neg %p : tensor<4xf64> -> tensor<4xf64>
  %z = fhe.mul %x, %n : (!fhe.cipher<[4]>, tensor<4xf64>) -> !fhe.cipher<[4]>
  return %z : !fhe.cipher<[4]>
}

// -----

// Moved elements keep their indices: p[2:4] reversed by a roll, added to x;
// equal values (one element broadcast) are not taken for a constant.
// CHECK-LABEL: func.func @main
// CHECK: ckks.encode f32 [4.000000e+00, 3.000000e+00] input 0
// CHECK: ckks.add_plain
// CHECK: ckks.encode f32 [2.000000e+00] count 2 input 0
// CHECK: ckks.mul_plain
// CHECK-NOT: ckks.mul_const
func.func @main(%p: tensor<4xf64>, %x: !fhe.cipher<[2]>) -> !fhe.cipher<[2]> {
  %s = fhe.slice %p {lo = 2, hi = 4} : tensor<4xf64> -> tensor<2xf64>
  %r = fhe.roll %s {shift = 1, axis = 0} : tensor<2xf64> -> tensor<2xf64>
  %a = fhe.add %x, %r : (!fhe.cipher<[2]>, tensor<2xf64>) -> !fhe.cipher<[2]>
  %one = fhe.slice %p {lo = 1, hi = 2} : tensor<4xf64> -> tensor<1xf64>
  %m = fhe.mul %a, %one : (!fhe.cipher<[2]>, tensor<1xf64>) -> !fhe.cipher<[2]>
  return %m : !fhe.cipher<[2]>
}

// -----

// A run-time weight matrix: cipher [2] @ plain [2, 2], its diagonals
// indices of W: W[0][0] (1) and W[1][1] (4) on diagonal 0; W[1][0] (3) at
// output 0 and W[0][1] (2) at output 1 on diagonal 1, which is rotated
// by its giant step after the product, so encoded pre-rotated.
// CHECK-LABEL: func.func @main
// CHECK: ckks.encode f32 [1.000000e+00, 4.000000e+00] input 1
// CHECK: ckks.encode f32 [2.000000e+00, 3.000000e+00] input 1
// CHECK: ckks.rotate %{{.*}} by 1
func.func @main(%x: !fhe.cipher<[2]>, %w: tensor<2x2xf64>) -> !fhe.cipher<[2]> {
  %z = fhe.matmul %x, %w : (!fhe.cipher<[2]>, tensor<2x2xf64>) -> !fhe.cipher<[2]>
  return %z : !fhe.cipher<[2]>
}

// -----

func.func @main(%x: !fhe.cipher<[4]>, %p: tensor<4xf64>) -> !fhe.cipher<[4]> {
  %c = fhe.constant [1.0, 2.0, 3.0, 4.0] : tensor<4xf64>
  // expected-error@+1 {{'fhe.mul' needs the values of a run-time plaintext (a plain parameter of main) at compile time}}
  %q = fhe.mul %p, %c : (tensor<4xf64>, tensor<4xf64>) -> tensor<4xf64>
  %z = fhe.add %x, %q : (!fhe.cipher<[4]>, tensor<4xf64>) -> !fhe.cipher<[4]>
  return %z : !fhe.cipher<[4]>
}

// -----

func.func @main(%x: !fhe.cipher<[4]>, %p: tensor<4xf64>) -> !fhe.cipher<[4]> {
  // expected-error@+1 {{'fhe.div' needs the values of a run-time plaintext}}
  %z = fhe.div %x, %p : (!fhe.cipher<[4]>, tensor<4xf64>) -> !fhe.cipher<[4]>
  return %z : !fhe.cipher<[4]>
}

// -----

func.func @main(%x: !fhe.cipher<[4]>, %p: tensor<2xf64>) -> !fhe.cipher<[4]> {
  %c = fhe.constant [1.0, 2.0] : tensor<2xf64>
  // expected-error@+1 {{'fhe.concat' needs the values of a run-time plaintext}}
  %q = fhe.concat %p, %c {axis = 0} : (tensor<2xf64>, tensor<2xf64>) -> tensor<4xf64>
  %z = fhe.add %x, %q : (!fhe.cipher<[4]>, tensor<4xf64>) -> !fhe.cipher<[4]>
  return %z : !fhe.cipher<[4]>
}

// -----

// x [16, 1] @ w [1, 1] over 16 slots: every slot takes w[0][0], so the
// map's entries cover all slots with the same index 1, which must stay a
// product by the bound values, not be taken for a copy (fullRotation).
// CHECK-LABEL: func.func @main
// CHECK: %[[W:.*]] = ckks.encode f32 [1.000000e+00] count 16 input 1
// CHECK: ckks.mul_plain %arg0, %[[W]]
func.func @main(%x: !fhe.cipher<[16, 1]>, %w: tensor<1x1xf64>) -> !fhe.cipher<[16, 1]> {
  %z = fhe.matmul %x, %w : (!fhe.cipher<[16, 1]>, tensor<1x1xf64>) -> !fhe.cipher<[16, 1]>
  return %z : !fhe.cipher<[16, 1]>
}

// RUN: cerium-opt %s --fhe-to-ckks="slots=8 precision=0.01" -split-input-file | FileCheck %s
// max(a, b) = (a + b) / 2 + |a - b| / 2 and min(a, b) = (a + b) / 2 -
// |a - b| / 2 (MaxMinLowering), |a - b| by the approximation of abs on
// [-(hi - lo), hi - lo] for inputs in [lo, hi], listed on the module. Only
// the frame around that approximation is checked here (its degrees are
// the approximation's business: nonlinear.mlir).

// Two cipher operands: a + b and a - b first, the two halves last.
// CHECK: module attributes {ckks.levels = {{[0-9]+}} : i64, ckks.slots = 8 : i64, fhe.approximations = ["line {{[0-9]+}}: abs on [-2, 2]: {{[^"]*}}"]}
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: !ckks.ct<level = {{[0-9]+}}, degree = 1> {fhe.shape = array<i64: 8>}, %[[Y:.*]]: !ckks.ct<level = {{[0-9]+}}, degree = 1> {fhe.shape = array<i64: 8>})
// CHECK-NEXT: %[[S:.*]] = ckks.add %[[X]], %[[Y]]
// CHECK-NEXT: %[[D:.*]] = ckks.sub %[[X]], %[[Y]]
// CHECK-NOT: ckks.rotate
// CHECK-DAG: ckks.mul_const %[[S]] by 5.000000e-01
// CHECK-DAG: ckks.mul_const %{{.*}} by 5.000000e-01 : <level = 1,
// CHECK: %[[M:.*]] = ckks.add %{{.*}} : <level = 0, degree = 1>, <level = 0, degree = 1>
// CHECK-NEXT: return %[[M]]
func.func @main(%x: !fhe.cipher<[8]>, %y: !fhe.cipher<[8]>) -> !fhe.cipher<[8]> {
  %m = fhe.maxmin %x, %y {is_max = true, range = array<f64: -1.0, 1.0>} : (!fhe.cipher<[8]>, !fhe.cipher<[8]>) -> !fhe.cipher<[8]>
  return %m : !fhe.cipher<[8]>
}

// -----

// min with a plain scalar: a + 0.25 and a - 0.25 (the same |.| up to sign)
// by add_plain, the magnitude's half subtracted (by -0.5). The range is
// [-4, 4], so abs is on [-8, 8].
// CHECK: fhe.approximations = ["line {{[0-9]+}}: abs on [-8, 8]: {{[^"]*}}"]
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: !ckks.ct<level = {{[0-9]+}}, degree = 1> {fhe.shape = array<i64: 8>})
// CHECK-NEXT: ckks.encode f32 [2.500000e-01] count 8 :
// CHECK-NEXT: %[[S:.*]] = ckks.add_plain %[[X]]
// CHECK-NEXT: ckks.encode f32 [-2.500000e-01] count 8 :
// CHECK-NEXT: %[[D:.*]] = ckks.add_plain %[[X]]
// CHECK-NOT: ckks.rotate
// CHECK-DAG: ckks.mul_const %[[S]] by 5.000000e-01
// CHECK-DAG: ckks.mul_const %{{.*}} by -5.000000e-01 : <level = 1,
// CHECK: %[[M:.*]] = ckks.add %{{.*}} : <level = 0, degree = 1>, <level = 0, degree = 1>
// CHECK-NEXT: return %[[M]]
func.func @main(%x: !fhe.cipher<[8]>) -> !fhe.cipher<[8]> {
  %c = fhe.constant [0.25] : tensor<1xf64>
  %m = fhe.maxmin %x, %c {is_max = false, range = array<f64: -4.0, 4.0>} : (!fhe.cipher<[8]>, tensor<1xf64>) -> !fhe.cipher<[8]>
  return %m : !fhe.cipher<[8]>
}

// -----

// A plain operand of another shape is broadcast at compile time: max(x [2,
// 2], [1, 2]) adds [1, 2, 1, 2] and subtracts it.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: !ckks.ct<level = {{[0-9]+}}, degree = 1> {fhe.shape = array<i64: 2, 2>})
// CHECK-NEXT: ckks.encode f32 [1.000000e+00, 2.000000e+00] count 4 :
// CHECK-NEXT: ckks.add_plain %[[X]]
// CHECK-NEXT: ckks.encode f32 [-1.000000e+00, -2.000000e+00] count 4 :
// CHECK-NEXT: ckks.add_plain %[[X]]
func.func @main(%x: !fhe.cipher<[2, 2]>) -> !fhe.cipher<[2, 2]> {
  %c = fhe.constant [1.0, 2.0] : tensor<2xf64>
  %m = fhe.maxmin %x, %c {is_max = true, range = array<f64: -2.0, 2.0>} : (!fhe.cipher<[2, 2]>, tensor<2xf64>) -> !fhe.cipher<[2, 2]>
  return %m : !fhe.cipher<[2, 2]>
}

// -----

// A cipher operand of another shape is broadcast first by a linear map
// (one level, as in broadcast.mlir): max(x [2, 4], v [4]) copies v to
// positions 4..7 (diagonal 4), then adds and subtracts at the level below.
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.*]]: !ckks.ct<level = [[TOP:[0-9]+]], degree = 1> {fhe.shape = array<i64: 2, 4>}, %[[V:.*]]: !ckks.ct<level = [[TOP]], degree = 1> {fhe.shape = array<i64: 4>})
// CHECK: ckks.mul_plain %[[V]]
// CHECK: ckks.mul_plain %[[V]]
// CHECK-NEXT: ckks.rotate %{{.*}} by 4 :
// CHECK-NEXT: ckks.add
// CHECK-NEXT: %[[VB:.*]] = ckks.rescale
// CHECK-NEXT: %[[XD:.*]] = ckks.level_down %[[X]]
// CHECK-NEXT: ckks.add %[[XD]], %[[VB]]
// CHECK: ckks.sub %{{.*}}, %[[VB]]
func.func @main(%x: !fhe.cipher<[2, 4]>, %v: !fhe.cipher<[4]>) -> !fhe.cipher<[2, 4]> {
  %m = fhe.maxmin %x, %v {is_max = true, range = array<f64: -1.0, 1.0>} : (!fhe.cipher<[2, 4]>, !fhe.cipher<[4]>) -> !fhe.cipher<[2, 4]>
  return %m : !fhe.cipher<[2, 4]>
}

// -----

// Over several ciphertexts (x, y [12] in two parts of 8 slots): one
// approximation listed, evaluated on each part.
// CHECK: ckks.slots = 8 : i64, fhe.approximations = ["line {{[0-9]+}}: abs on [-2, 2]: {{[^"]*}}"]}
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X0:arg0]]: {{.*}}, %[[X1:arg1]]: {{.*}}, %[[Y0:arg2]]: {{.*}}, %[[Y1:arg3]]: {{.*}})
// CHECK-NEXT: ckks.add %[[X0]], %[[Y0]]
// CHECK-NEXT: ckks.sub %[[X0]], %[[Y0]]
// CHECK-NOT: %[[X1]]
// CHECK: ckks.add %[[X1]], %[[Y1]]
// CHECK-NEXT: ckks.sub %[[X1]], %[[Y1]]
// CHECK: return %{{.*}}, %{{.*}} : !ckks.ct<level = 0, degree = 1>, !ckks.ct<level = 0, degree = 1>
func.func @main(%x: !fhe.cipher<[12]>, %y: !fhe.cipher<[12]>) -> !fhe.cipher<[12]> {
  %m = fhe.maxmin %x, %y {is_max = false, range = array<f64: -1.0, 1.0>} : (!fhe.cipher<[12]>, !fhe.cipher<[12]>) -> !fhe.cipher<[12]>
  return %m : !fhe.cipher<[12]>
}

// -----

// Two plaintexts fold: max([1, -2], [0, 0.5]) = [1, 0.5], no approximation.
// CHECK-NOT: fhe.approximations
// CHECK-LABEL: func.func @main
// CHECK-NEXT: ckks.encode f32 [1.000000e+00, 5.000000e-01] :
// CHECK-NEXT: ckks.add_plain
// CHECK-NEXT: return
func.func @main(%x: !fhe.cipher<[2]>) -> !fhe.cipher<[2]> {
  %a = fhe.constant [1.0, -2.0] : tensor<2xf64>
  %b = fhe.constant [0.0, 0.5] : tensor<2xf64>
  %m = fhe.maxmin %a, %b {is_max = true, range = array<f64: -4.0, 4.0>} : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %y = fhe.add %x, %m : (!fhe.cipher<[2]>, tensor<2xf64>) -> !fhe.cipher<[2]>
  return %y : !fhe.cipher<[2]>
}

// -----

// Inputs whose rows are padded to 8 for the batched linear map that reads
// the result keep that layout through min (as for + and *): no conversion
// to compact rows and back, so the map is the only level after abs's 11
// and the halves' 1: 13 levels (three ciphertexts each way).
// CHECK-LABEL: module attributes {ckks.levels = 13
// CHECK: func.func @main(%arg0: !ckks.ct<level = 13, degree = 1> {fhe.layout = array<i64: 3, 8>, fhe.part = 0
// CHECK-SAME: -> (!ckks.ct<level = 0, degree = 1> {fhe.layout = array<i64: 3, 8>, fhe.part = 0
func.func @main(%x: !fhe.cipher<[3, 5]>, %y: !fhe.cipher<[3, 5]>) -> !fhe.cipher<[3, 4]> {
  %m = fhe.maxmin %x, %y {is_max = false, range = array<f64: -1.0, 1.0>} : (!fhe.cipher<[3, 5]>, !fhe.cipher<[3, 5]>) -> !fhe.cipher<[3, 5]>
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0, 5.0, 0.5, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 0.0, 0.0, 0.0, -1.0] : tensor<4x5xf64>
  %z = fhe.linear %m, %w : !fhe.cipher<[3, 5]>, tensor<4x5xf64> -> !fhe.cipher<[3, 4]>
  return %z : !fhe.cipher<[3, 4]>
}

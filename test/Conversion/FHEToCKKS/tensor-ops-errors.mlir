// RUN: cerium-opt %s --fhe-to-ckks -split-input-file -verify-diagnostics
// What the layout, broadcasting, pooling, batchnorm and max/min lowerings
// refuse: shapes the fhe verifiers reject before any lowering, and the
// patterns' own errors (one located error each, nothing lowered).

func.func @main(%x: !fhe.cipher<[2, 3]>) -> !fhe.cipher<[2, 3]> {
  // expected-error@+1 {{'fhe.transpose' op invalid permutation for shape [2, 3]}}
  %t = fhe.transpose %x {perm = array<i64: 0, 0>} : !fhe.cipher<[2, 3]> -> !fhe.cipher<[2, 2]>
  return %x : !fhe.cipher<[2, 3]>
}

// -----

func.func @main(%x: !fhe.cipher<[2, 3]>) -> !fhe.cipher<[2, 3]> {
  // expected-error@+1 {{'fhe.transpose' op result type should be '!fhe.cipher<[3, 2]>'}}
  %t = fhe.transpose %x {perm = array<i64: 1, 0>} : !fhe.cipher<[2, 3]> -> !fhe.cipher<[2, 3]>
  return %t : !fhe.cipher<[2, 3]>
}

// -----

func.func @main(%x: !fhe.cipher<[2, 3]>, %y: !fhe.cipher<[3, 3]>) -> !fhe.cipher<[2, 3]> {
  // expected-error@+1 {{'fhe.concat' op cannot concatenate [2, 3] and [3, 3] along axis 1}}
  %c = fhe.concat %x, %y {axis = 1} : (!fhe.cipher<[2, 3]>, !fhe.cipher<[3, 3]>) -> !fhe.cipher<[2, 6]>
  return %x : !fhe.cipher<[2, 3]>
}

// -----

func.func @main(%x: !fhe.cipher<[4, 3]>) -> !fhe.cipher<[4, 3]> {
  // expected-error@+1 {{'fhe.slice' op slice [2:1] is empty or out of range for shape [4, 3]}}
  %s = fhe.slice %x {lo = 2, hi = 1} : !fhe.cipher<[4, 3]> -> !fhe.cipher<[1, 3]>
  return %x : !fhe.cipher<[4, 3]>
}

// -----

func.func @main(%x: !fhe.cipher<[4, 3]>) -> !fhe.cipher<[4, 3]> {
  // expected-error@+1 {{'fhe.index' op index 4 out of range}}
  %i = fhe.index %x {index = 4} : !fhe.cipher<[4, 3]> -> !fhe.cipher<[3]>
  return %x : !fhe.cipher<[4, 3]>
}

// -----

func.func @main(%x: !fhe.cipher<[1, 4, 4]>) -> !fhe.cipher<[1, 4, 4]> {
  // expected-error@+1 {{'fhe.avgpool2d' op avgpool2d kernel 5 does not fit input [1, 4, 4]}}
  %p = fhe.avgpool2d %x {kernel = 5, stride = 1} : !fhe.cipher<[1, 4, 4]> -> !fhe.cipher<[1, 1, 1]>
  return %x : !fhe.cipher<[1, 4, 4]>
}

// -----

func.func @main(%x: !fhe.cipher<[1, 4, 4]>) -> !fhe.cipher<[1, 4, 4]> {
  // expected-error@+1 {{'fhe.avgpool2d' op avgpool2d needs kernel >= 1 and stride >= 1}}
  %p = fhe.avgpool2d %x {kernel = 2, stride = 0} : !fhe.cipher<[1, 4, 4]> -> !fhe.cipher<[1, 3, 3]>
  return %x : !fhe.cipher<[1, 4, 4]>
}

// -----

func.func @main(%x: !fhe.cipher<[1, 4, 4]>) -> !fhe.cipher<[1, 4, 4]> {
  // (4 - 3) / 2 + 1 = 1: the output is [1, 1, 1].
  // expected-error@+1 {{'fhe.avgpool2d' op result type should be '!fhe.cipher<[1, 1, 1]>'}}
  %p = fhe.avgpool2d %x {kernel = 3, stride = 2} : !fhe.cipher<[1, 4, 4]> -> !fhe.cipher<[1, 2, 2]>
  return %x : !fhe.cipher<[1, 4, 4]>
}

// -----

func.func @main(%x: !fhe.cipher<[2, 4]>, %g: tensor<3xf64>) -> !fhe.cipher<[2, 4]> {
  // expected-error@+1 {{'fhe.batchnorm' op batchnorm parameters must be [2] for input [2, 4], got [3]}}
  %y = fhe.batchnorm %x, %g, %g, %g, %g {eps = 1.0e-5 : f64} : !fhe.cipher<[2, 4]>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64> -> !fhe.cipher<[2, 4]>
  return %x : !fhe.cipher<[2, 4]>
}

// -----

func.func @main(%x: !fhe.cipher<[4]>, %y: !fhe.cipher<[4]>) -> !fhe.cipher<[4]> {
  // expected-error@+1 {{'fhe.maxmin' op range must have lo < hi}}
  %m = fhe.maxmin %x, %y {is_max = true, range = array<f64: 1.0, 1.0>} : (!fhe.cipher<[4]>, !fhe.cipher<[4]>) -> !fhe.cipher<[4]>
  return %x : !fhe.cipher<[4]>
}

// -----

func.func @main(%x: !fhe.cipher<[4]>, %y: !fhe.cipher<[3]>) -> !fhe.cipher<[4]> {
  // expected-error@+1 {{'fhe.maxmin' op shapes [4] and [3] do not broadcast}}
  %m = fhe.maxmin %x, %y {is_max = true, range = array<f64: -1.0, 1.0>} : (!fhe.cipher<[4]>, !fhe.cipher<[3]>) -> !fhe.cipher<[4]>
  return %x : !fhe.cipher<[4]>
}

// -----

// A cipher operand that does not broadcast to the result's shape.
func.func @main(%x: !fhe.cipher<[2, 4]>, %v: !fhe.cipher<[2]>) -> !fhe.cipher<[2, 4]> {
  // expected-error@+1 {{'fhe.add' op shapes [2, 4] and [2] do not broadcast}}
  %a = fhe.add %x, %v : (!fhe.cipher<[2, 4]>, !fhe.cipher<[2]>) -> !fhe.cipher<[2, 4]>
  return %x : !fhe.cipher<[2, 4]>
}

// -----

// Lowering errors. A cipher broadcast to [2, 2] and divided by a plain
// divisor with a zero at flat index 3 (after broadcasting).
func.func @main(%x: !fhe.cipher<[2]>) -> !fhe.cipher<[2, 2]> {
  %p = fhe.constant [1.0, 2.0, 4.0, 0.0] : tensor<2x2xf64>
  // expected-error@+1 {{division by zero: the divisor is 0 at flat index 3}}
  %y = fhe.div %x, %p : (!fhe.cipher<[2]>, tensor<2x2xf64>) -> !fhe.cipher<[2, 2]>
  return %y : !fhe.cipher<[2, 2]>
}

// -----

// A scalar zero divisor, broadcast to the cipher operand's shape.
func.func @main(%x: !fhe.cipher<[2, 2]>) -> !fhe.cipher<[2, 2]> {
  %z = fhe.constant [0.0] : tensor<1xf64>
  // expected-error@+1 {{division by zero}}
  %y = fhe.div %x, %z : (!fhe.cipher<[2, 2]>, tensor<1xf64>) -> !fhe.cipher<[2, 2]>
  return %y : !fhe.cipher<[2, 2]>
}

// -----

// max/min whose |a - b| cannot be approximated to the op's own precision
// on [-2, 2] (inputs in [-1, 1]): the op is named, nothing is lowered.
func.func @main(%x: !fhe.cipher<[4]>, %y: !fhe.cipher<[4]>) -> !fhe.cipher<[4]> {
  // expected-error-re@+1 {{cannot approximate {{.*}}on [-2, 2]{{.*}}}}
  %m = fhe.maxmin %x, %y {is_max = true, range = array<f64: -1.0, 1.0>, fhe.precision = 1.0e-14 : f64} : (!fhe.cipher<[4]>, !fhe.cipher<[4]>) -> !fhe.cipher<[4]>
  return %m : !fhe.cipher<[4]>
}

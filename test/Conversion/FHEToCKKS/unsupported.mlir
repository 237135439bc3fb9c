// RUN: cerium-opt %s --fhe-to-ckks -split-input-file -verify-diagnostics
// Lowerings that belong to later work fail with a located, clear error.

func.func @main(%x: !fhe.cipher<[4]>) -> !fhe.cipher<[4]> {
  // expected-error@+1 {{not yet supported: 'fhe.softmax' (its lowering to ckks is later work)}}
  %y = fhe.softmax %x {axis = 0, range = array<f64: -1.0, 1.0>} : !fhe.cipher<[4]> -> !fhe.cipher<[4]>
  return %y : !fhe.cipher<[4]>
}

// -----

func.func @main(%x: !fhe.cipher<[4]>) -> !fhe.cipher<[4]> {
  // expected-error@+1 {{cannot approximate log on [-1, 1]: log is undefined or infinite at x <= 0; its range must have lo > 0}}
  %y = fhe.nonlinear %x {function = "log", range = array<f64: -1.0, 1.0>} : !fhe.cipher<[4]> -> !fhe.cipher<[4]>
  return %y : !fhe.cipher<[4]>
}

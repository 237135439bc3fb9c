// RUN: cerium-opt %s --fhe-to-ckks -split-input-file -verify-diagnostics
// Lowerings that belong to later work fail with a located, clear error.

func.func @main(%x: !fhe.cipher<[4]>) -> !fhe.cipher<[4]> {
  // expected-error@+1 {{not yet supported: 'fhe.nonlinear' (its lowering to ckks is later work)}}
  %y = fhe.nonlinear %x {function = "relu", range = array<f64: -1.0, 1.0>} : !fhe.cipher<[4]> -> !fhe.cipher<[4]>
  return %y : !fhe.cipher<[4]>
}

// -----

func.func @main(%x: !fhe.cipher<[2, 4]>) -> !fhe.cipher<[2, 2]> {
  %w = fhe.constant [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0] : tensor<2x4xf64>
  // expected-error@+1 {{not yet supported: linear on a batch of vectors (rank 2 input)}}
  %y = fhe.linear %x, %w : !fhe.cipher<[2, 4]>, tensor<2x4xf64> -> !fhe.cipher<[2, 2]>
  return %y : !fhe.cipher<[2, 2]>
}

// -----

func.func @main(%x: !fhe.cipher<[4]>, %y: !fhe.cipher<[1]>) -> !fhe.cipher<[4]> {
  // expected-error@+1 {{not yet supported: broadcasting a cipher operand to [4]}}
  %z = fhe.add %x, %y : (!fhe.cipher<[4]>, !fhe.cipher<[1]>) -> !fhe.cipher<[4]>
  return %z : !fhe.cipher<[4]>
}

// -----

// expected-error@+1 {{not yet supported: plain inputs of main (server-side run-time plaintexts)}}
func.func @main(%x: !fhe.cipher<[4]>, %p: tensor<4xf64>) -> !fhe.cipher<[4]> {
  %z = fhe.mul %x, %p : (!fhe.cipher<[4]>, tensor<4xf64>) -> !fhe.cipher<[4]>
  return %z : !fhe.cipher<[4]>
}

// RUN: cerium-opt %s --split-input-file --fhe-assign-precision --verify-diagnostics
// Programs fhe-assign-precision refuses, with the op to blame.

// A batchnorm whose known variance makes var + eps 0 or less divides by
// the root of it: every output of that channel would be NaN.
func.func @main(%y: !fhe.cipher<[3, 2, 2]>) -> !fhe.cipher<[3, 2, 2]> {
  %gamma = fhe.constant [1.0, 2.0, 3.0] : tensor<3xf64>
  %zero = fhe.constant [0.0, 0.0, 0.0] : tensor<3xf64>
  %var = fhe.constant [1.0, -1.0, 1.0] : tensor<3xf64>
  // expected-error @+1 {{batchnorm's var + eps must be positive and finite: channel 1 has -1 + 1e-05}}
  %r = fhe.batchnorm %y, %gamma, %zero, %zero, %var {eps = 1.0e-05 : f64} : !fhe.cipher<[3, 2, 2]>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64> -> !fhe.cipher<[3, 2, 2]>
  return %r : !fhe.cipher<[3, 2, 2]>
}

// -----

func.func @main(%y: !fhe.cipher<[3, 2, 2]>) -> !fhe.cipher<[3, 2, 2]> {
  %gamma = fhe.constant [1.0, 2.0, 3.0] : tensor<3xf64>
  %zero = fhe.constant [0.0, 0.0, 0.0] : tensor<3xf64>
  // expected-error @+1 {{batchnorm's var + eps must be positive and finite: channel 0 has 0 + 0}}
  %r = fhe.batchnorm %y, %gamma, %zero, %zero, %zero {eps = 0.0 : f64} : !fhe.cipher<[3, 2, 2]>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64> -> !fhe.cipher<[3, 2, 2]>
  return %r : !fhe.cipher<[3, 2, 2]>
}

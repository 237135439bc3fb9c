// RUN: cerium-opt %s -split-input-file --ckks-place-bootstraps=levels=1 -verify-diagnostics
// What bootstrap placement refuses.

// Two levels in segments of one need a bootstrap at depth 1, where only an
// unrelinearized product is live.
// expected-error@+1 {{cannot place bootstraps at most 1 levels apart: at each depth from 1 to 1 a value that is not rescaled and relinearized (degree 1, size 2) is live, and a bootstrap cannot take it}}
func.func @unrelinearized(%x: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 0, degree = 1, size = 3> {
  %0 = ckks.mul %x, %x : !ckks.ct<level = 2, degree = 1>, !ckks.ct<level = 2, degree = 1>
  %1 = ckks.rescale %0 : !ckks.ct<level = 2, degree = 2, size = 3>
  %2 = ckks.mul_const %1 by 5.000000e-01 : !ckks.ct<level = 1, degree = 1, size = 3>
  %3 = ckks.rescale %2 : !ckks.ct<level = 1, degree = 2, size = 3>
  return %3 : !ckks.ct<level = 0, degree = 1, size = 3>
}

// -----

// An expanded bootstrap is past placement.
func.func @expanded(%x: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 3, degree = 1> {
  // expected-error@+1 {{'ckks.mod_raise' op is not ckks arithmetic: bootstraps are placed before they are expanded}}
  %0 = ckks.mod_raise %x : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 3, degree = 1>
  return %0 : !ckks.ct<level = 3, degree = 1>
}

// -----

// expected-error@+1 {{bootstrap placement expects fresh ciphertext arguments (degree 1, size 2)}}
func.func @product_argument(%x: !ckks.ct<level = 2, degree = 2>) -> !ckks.ct<level = 1, degree = 1> {
  %0 = ckks.rescale %x : !ckks.ct<level = 2, degree = 2>
  return %0 : !ckks.ct<level = 1, degree = 1>
}

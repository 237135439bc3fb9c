// RUN: cerium-opt %s --ckks-to-poly -split-input-file -verify-diagnostics
// A level above the layout's top would index primes past the chain (a
// mod_raise's target is free): refused before lowering.

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
  func.func @raise(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 4, degree = 1> {
    // expected-error@+1 {{'ckks.mod_raise' op has a result above the chain's top level 2}}
    %0 = ckks.mod_raise %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 4, degree = 1>
    return %0 : !ckks.ct<level = 4, degree = 1>
  }
}

// -----

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
  // expected-error@+1 {{'func.func' op has an argument above the chain's top level 2}}
  func.func @argument(%a: !ckks.ct<level = 3, degree = 1>) -> !ckks.ct<level = 3, degree = 1> {
    return %a : !ckks.ct<level = 3, degree = 1>
  }
}

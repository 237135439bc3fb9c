// RUN: cerium-opt %s --ckks-to-poly -split-input-file -verify-diagnostics
// The lowering needs the parameter set's prime layout, and constants that
// fit two integers at the level's scale.

// expected-error@+1 {{the module's 'ckks.rns' attribute is missing}}
module {
  func.func @f(%a: !ckks.ct<level = 1, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
    return %a : !ckks.ct<level = 1, degree = 1>
  }
}

// -----

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
  func.func @huge(%a: !ckks.ct<level = 2, degree = 1>) -> !ckks.ct<level = 2, degree = 2> {
    // expected-error@+1 {{constant does not fit two 62-bit integers}}
    %0 = ckks.mul_const %a by 1.0e40 : !ckks.ct<level = 2, degree = 1>
    return %0 : !ckks.ct<level = 2, degree = 2>
  }
}

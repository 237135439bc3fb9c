// RUN: cerium-opt %s --ckks-to-poly -split-input-file -verify-diagnostics
// ckks.bootstrap has no ring-level form: ckks-expand-bootstrap must run
// before the lowering.

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
  func.func @unexpanded(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 2, degree = 1> {
    // expected-error@+1 {{'ckks.bootstrap' op has no lowering to the poly dialect}}
    %0 = ckks.bootstrap %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 2, degree = 1>
    return %0 : !ckks.ct<level = 2, degree = 1>
  }
}

// RUN: cerium-opt %s --poly-to-rns -verify-diagnostics
// Limb ids past the chain are refused before lowering, not produced.

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
  func.func @raise(%x: !poly.poly<Q0, ntt>) -> !poly.poly<Q4, ntt> {
    // expected-error@+1 {{'poly.mod_raise' op has a result above the chain's top level 2}}
    %0 = poly.mod_raise %x : !poly.poly<Q0, ntt> -> !poly.poly<Q4, ntt>
    return %0 : !poly.poly<Q4, ntt>
  }
}

// RUN: cerium-opt %s -split-input-file -verify-diagnostics
// Basis, domain and digit rules of the poly ops, each broken once.

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
func.func @mul_coeff(%a: !poly.poly<Q2, coeff>) {
  // expected-error@+1 {{operands must be in the NTT domain}}
  %0 = poly.mul %a, %a : !poly.poly<Q2, coeff>
  return
}
}

// -----

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
func.func @ntt_twice(%a: !poly.poly<Q2, ntt>) {
  // expected-error@+1 {{maps a coefficient-form polynomial}}
  %0 = poly.ntt %a : !poly.poly<Q2, ntt> -> !poly.poly<Q2, ntt>
  return
}
}

// -----

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
func.func @digit_range(%a: !poly.poly<Q1, ntt>, %c: !poly.poly<Q1, coeff>) {
  // expected-error@+1 {{digit 2 does not exist at level 1}}
  %0 = poly.mod_up %a, %c digit 2 : !poly.poly<Q1, ntt>, !poly.poly<Q1, coeff> -> !poly.poly<PQ1, ntt>
  return
}
}

// -----

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
func.func @digit_count(%a: !poly.poly<PQ2, ntt>) {
  // expected-error@+1 {{needs one operand per digit of level 2}}
  %b, %k = poly.key_switch %a : !poly.poly<PQ2, ntt> -> !poly.poly<PQ2, ntt>
  return
}
}

// -----

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
func.func @rescale_level0(%a: !poly.poly<Q0, ntt>) {
  // expected-error@+1 {{maps Q_l to Q_{l-1} (l > 0)}}
  %0 = poly.rescale %a : !poly.poly<Q0, ntt> -> !poly.poly<Q0, ntt>
  return
}
}

// -----

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
func.func @mod_down_basis(%a: !poly.poly<Q2, ntt>) {
  // expected-error@+1 {{maps PQ_l to Q_l}}
  %0 = poly.mod_down %a : !poly.poly<Q2, ntt> -> !poly.poly<Q2, ntt>
  return
}
}

// -----

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
func.func @even_galois(%a: !poly.poly<Q2, ntt>) {
  // expected-error@+1 {{needs an odd positive Galois element}}
  %0 = poly.automorph %a by 4 : !poly.poly<Q2, ntt>
  return
}
}

// -----

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
func.func @drop_up(%a: !poly.poly<Q1, ntt>) {
  // expected-error@+1 {{drops Q primes}}
  %0 = poly.drop %a : !poly.poly<Q1, ntt> -> !poly.poly<Q2, ntt>
  return
}
}

// -----

func.func @no_layout(%a: !poly.poly<Q1, ntt>, %c: !poly.poly<Q1, coeff>) {
  // expected-error@+1 {{the module's 'ckks.rns' attribute is missing}}
  %0 = poly.mod_up %a, %c digit 0 : !poly.poly<Q1, ntt>, !poly.poly<Q1, coeff> -> !poly.poly<PQ1, ntt>
  return
}

// -----

// expected-error@+1 {{expected a basis Q<level> or PQ<level>}}
func.func @bad_type(%a: !poly.poly<R2, ntt>)

// -----

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
func.func @merged_levels(%e: !poly.poly<PQ2, ntt>, %x: !poly.poly<Q1, ntt>) {
  // expected-error@+1 {{maps PQ_l (and an optional addend over Q_l) to Q_{l-1}}}
  %0 = poly.mod_down_rescale %e, %x : !poly.poly<PQ2, ntt>, !poly.poly<Q1, ntt> -> !poly.poly<Q1, ntt>
  return
}
}

// -----

module attributes {ckks.rns = {log_n = 4, base = 1, per_level = 2, special = 1, digit = 2, moduli = array<i64: 97, 193, 257, 353, 449, 577>, scales = array<f64: 1024.0, 2048.0, 4096.0>}} {
func.func @encode_count_not_a_multiple() {
  // expected-error@+1 {{'poly.encode' op count 3 is not a multiple of the 2 stored values}}
  %0 = poly.encode f32 [1.0, 2.0] count 3 degree 1 : !poly.poly<Q1, ntt>
  return
}
}

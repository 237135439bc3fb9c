// RUN: cerium-opt %s -split-input-file -verify-diagnostics
// poly.mod_raise's basis and domain rule and the complex encode rules, each
// broken once.

func.func @mod_raise_from_q1(%a: !poly.poly<Q1, ntt>) {
  // expected-error@+1 {{'poly.mod_raise' op maps Q_0 to Q_l (l > 0), in the NTT domain}}
  %0 = poly.mod_raise %a : !poly.poly<Q1, ntt> -> !poly.poly<Q2, ntt>
  return
}

// -----

func.func @mod_raise_from_coeff(%a: !poly.poly<Q0, coeff>) {
  // expected-error@+1 {{'poly.mod_raise' op maps Q_0 to Q_l (l > 0), in the NTT domain}}
  %0 = poly.mod_raise %a : !poly.poly<Q0, coeff> -> !poly.poly<Q2, ntt>
  return
}

// -----

func.func @mod_raise_from_pq0(%a: !poly.poly<PQ0, ntt>) {
  // expected-error@+1 {{'poly.mod_raise' op maps Q_0 to Q_l (l > 0), in the NTT domain}}
  %0 = poly.mod_raise %a : !poly.poly<PQ0, ntt> -> !poly.poly<Q2, ntt>
  return
}

// -----

func.func @mod_raise_to_q0(%a: !poly.poly<Q0, ntt>) {
  // expected-error@+1 {{'poly.mod_raise' op maps Q_0 to Q_l (l > 0), in the NTT domain}}
  %0 = poly.mod_raise %a : !poly.poly<Q0, ntt> -> !poly.poly<Q0, ntt>
  return
}

// -----

func.func @mod_raise_to_pq(%a: !poly.poly<Q0, ntt>) {
  // expected-error@+1 {{'poly.mod_raise' op maps Q_0 to Q_l (l > 0), in the NTT domain}}
  %0 = poly.mod_raise %a : !poly.poly<Q0, ntt> -> !poly.poly<PQ2, ntt>
  return
}

// -----

func.func @mod_raise_to_coeff(%a: !poly.poly<Q0, ntt>) {
  // expected-error@+1 {{'poly.mod_raise' op maps Q_0 to Q_l (l > 0), in the NTT domain}}
  %0 = poly.mod_raise %a : !poly.poly<Q0, ntt> -> !poly.poly<Q2, coeff>
  return
}

// -----

func.func @encode_complex_odd() {
  // expected-error@+1 {{'poly.encode' op complex values come in (real, imaginary) pairs}}
  %0 = poly.encode complex [0.0, 1.0, 2.0] degree 1 : !poly.poly<Q1, ntt>
  return
}

// -----

func.func @encode_complex_count() {
  // Two pairs: a period of 2 complex slots.
  // expected-error@+1 {{'poly.encode' op count 5 is not a multiple of the 2 stored values}}
  %0 = poly.encode complex f32 [1.0, 0.0, 0.0, 1.0] count 5 degree 1 : !poly.poly<Q1, ntt>
  return
}

// -----

func.func @encode_complex_empty() {
  // expected-error@+1 {{'poly.encode' op needs at least one slot value}}
  %0 = poly.encode complex [] degree 0 : !poly.poly<Q1, ntt>
  return
}

// -----

func.func @encode_degree3() {
  // expected-error@+1 {{'poly.encode' op encodes over Q in the NTT domain at degree 0, 1 or 2}}
  %0 = poly.encode complex [0.0, 1.0] degree 3 : !poly.poly<Q1, ntt>
  return
}

// -----

func.func @encode_negative_degree() {
  // expected-error@+1 {{'poly.encode' op encodes over Q in the NTT domain at degree 0, 1 or 2}}
  %0 = poly.encode [1.0] degree -1 : !poly.poly<Q1, ntt>
  return
}

// -----

func.func @encode_coeff() {
  // expected-error@+1 {{'poly.encode' op encodes over Q in the NTT domain at degree 0, 1 or 2}}
  %0 = poly.encode complex [0.0, 1.0] degree 0 : !poly.poly<Q1, coeff>
  return
}

// -----

func.func @encode_pq() {
  // expected-error@+1 {{'poly.encode' op encodes over Q in the NTT domain at degree 0, 1 or 2}}
  %0 = poly.encode complex [0.0, 1.0] degree 0 : !poly.poly<PQ1, ntt>
  return
}

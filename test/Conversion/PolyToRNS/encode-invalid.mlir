// RUN: cerium-opt %s -split-input-file -verify-diagnostics
// rns.encode, the end of the complex encode's lowering, shares the slot
// value verifier: pairs when complex, a count that repeats whole periods of
// complex slots.

func.func @rns_encode_complex_odd() {
  // expected-error@+1 {{'rns.encode' op complex values come in (real, imaginary) pairs}}
  %0 = rns.encode complex [0.0, 1.0, 0.5] level 2 degree 1 : !rns.limbs<0 to 4>
  return
}

// -----

func.func @rns_encode_complex_count() {
  // expected-error@+1 {{'rns.encode' op count 3 is not a multiple of the 2 stored values}}
  %0 = rns.encode complex f32 [0.0, 1.0, 1.0, 0.0] count 3 level 2 degree 0 : !rns.limbs<0 to 4>
  return
}

// -----

func.func @rns_encode_complex_empty() {
  // expected-error@+1 {{'rns.encode' op needs at least one slot value}}
  %0 = rns.encode complex [] level 2 degree 0 : !rns.limbs<0 to 4>
  return
}

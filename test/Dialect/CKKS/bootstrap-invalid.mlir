// RUN: cerium-opt %s -split-input-file -verify-diagnostics
// The rules of mod_raise, bootstrap (and its iterations), mul_int and
// complex encodes, each broken once.

func.func @mod_raise_not_at_zero(%a: !ckks.ct<level = 1, degree = 1>) {
  // expected-error@+1 {{'ckks.mod_raise' op expects its input at level 0, got level 1}}
  %0 = ckks.mod_raise %a : !ckks.ct<level = 1, degree = 1> -> !ckks.ct<level = 4, degree = 1>
  return
}

// -----

func.func @mod_raise_to_zero(%a: !ckks.ct<level = 0, degree = 1>) {
  // expected-error@+1 {{'ckks.mod_raise' op must raise to a level above 0}}
  %0 = ckks.mod_raise %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 0, degree = 1>
  return
}

// -----

func.func @mod_raise_degree2_input(%a: !ckks.ct<level = 0, degree = 2>) {
  // expected-error@+1 {{'ckks.mod_raise' op maps a degree-1, size-2 ciphertext to another}}
  %0 = ckks.mod_raise %a : !ckks.ct<level = 0, degree = 2> -> !ckks.ct<level = 3, degree = 1>
  return
}

// -----

func.func @mod_raise_degree2_result(%a: !ckks.ct<level = 0, degree = 1>) {
  // expected-error@+1 {{'ckks.mod_raise' op maps a degree-1, size-2 ciphertext to another}}
  %0 = ckks.mod_raise %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 3, degree = 2>
  return
}

// -----

func.func @mod_raise_size3_input(%a: !ckks.ct<level = 0, degree = 1, size = 3>) {
  // expected-error@+1 {{'ckks.mod_raise' op maps a degree-1, size-2 ciphertext to another}}
  %0 = ckks.mod_raise %a : !ckks.ct<level = 0, degree = 1, size = 3> -> !ckks.ct<level = 3, degree = 1>
  return
}

// -----

func.func @mod_raise_size3_result(%a: !ckks.ct<level = 0, degree = 1>) {
  // expected-error@+1 {{'ckks.mod_raise' op maps a degree-1, size-2 ciphertext to another}}
  %0 = ckks.mod_raise %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 3, degree = 1, size = 3>
  return
}

// -----

func.func @mod_raise_shape_before_level(%a: !ckks.ct<level = 2, degree = 2>) {
  // The shape is checked before the levels.
  // expected-error@+1 {{'ckks.mod_raise' op maps a degree-1, size-2 ciphertext to another}}
  %0 = ckks.mod_raise %a : !ckks.ct<level = 2, degree = 2> -> !ckks.ct<level = 0, degree = 1>
  return
}

// -----

func.func @mod_raise_plaintext(%p: !ckks.pt<level = 0, degree = 1>) {
  // expected-error@+1 {{'ckks.mod_raise' op operand #0 must be}}
  %0 = "ckks.mod_raise"(%p) : (!ckks.pt<level = 0, degree = 1>) -> !ckks.ct<level = 3, degree = 1>
  return
}

// -----

func.func @bootstrap_degree2_input(%a: !ckks.ct<level = 2, degree = 2>) {
  // expected-error@+1 {{'ckks.bootstrap' op maps a degree-1, size-2 ciphertext to another}}
  %0 = ckks.bootstrap %a : !ckks.ct<level = 2, degree = 2> -> !ckks.ct<level = 5, degree = 1>
  return
}

// -----

func.func @bootstrap_size3_input(%a: !ckks.ct<level = 2, degree = 2, size = 3>) {
  // expected-error@+1 {{'ckks.bootstrap' op maps a degree-1, size-2 ciphertext to another}}
  %0 = ckks.bootstrap %a : !ckks.ct<level = 2, degree = 2, size = 3> -> !ckks.ct<level = 5, degree = 1>
  return
}

// -----

func.func @bootstrap_size3_degree1_input(%a: !ckks.ct<level = 2, degree = 1, size = 3>) {
  // expected-error@+1 {{'ckks.bootstrap' op maps a degree-1, size-2 ciphertext to another}}
  %0 = ckks.bootstrap %a : !ckks.ct<level = 2, degree = 1, size = 3> -> !ckks.ct<level = 5, degree = 1>
  return
}

// -----

func.func @bootstrap_degree2_result(%a: !ckks.ct<level = 2, degree = 1>) {
  // expected-error@+1 {{'ckks.bootstrap' op maps a degree-1, size-2 ciphertext to another}}
  %0 = ckks.bootstrap %a : !ckks.ct<level = 2, degree = 1> -> !ckks.ct<level = 5, degree = 2>
  return
}

// -----

func.func @bootstrap_size3_result(%a: !ckks.ct<level = 2, degree = 1>) {
  // expected-error@+1 {{'ckks.bootstrap' op maps a degree-1, size-2 ciphertext to another}}
  %0 = ckks.bootstrap %a : !ckks.ct<level = 2, degree = 1> -> !ckks.ct<level = 5, degree = 1, size = 3>
  return
}

// -----

func.func @bootstrap_zero_iterations(%a: !ckks.ct<level = 0, degree = 1>) {
  // expected-error@+1 {{'ckks.bootstrap' op iterations must be 1 or 2, got 0}}
  %0 = ckks.bootstrap %a {iterations = 0} : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 5, degree = 1>
  return
}

// -----

func.func @bootstrap_three_iterations(%a: !ckks.ct<level = 0, degree = 1>) {
  // expected-error@+1 {{'ckks.bootstrap' op iterations must be 1 or 2, got 3}}
  %0 = ckks.bootstrap %a {iterations = 3} : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 5, degree = 1>
  return
}

// -----

func.func @bootstrap_negative_iterations(%a: !ckks.ct<level = 0, degree = 1>) {
  // expected-error@+1 {{'ckks.bootstrap' op iterations must be 1 or 2, got -1}}
  %0 = ckks.bootstrap %a {iterations = -1} : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 5, degree = 1>
  return
}

// -----

func.func @bootstrap_iterations_not_integer(%a: !ckks.ct<level = 0, degree = 1>) {
  // expected-error@+1 {{'ckks.bootstrap' op attribute 'iterations' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = ckks.bootstrap %a {iterations = 2.0} : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 5, degree = 1>
  return
}

// -----

func.func @mul_int_plaintext(%p: !ckks.pt<level = 0, degree = 1>) {
  // expected-error@+1 {{'ckks.mul_int' op operand #0 must be}}
  %0 = "ckks.mul_int"(%p) {value = 2 : i64} : (!ckks.pt<level = 0, degree = 1>) -> !ckks.pt<level = 0, degree = 1>
  return
}

// -----

func.func @complex_odd_values() {
  // expected-error@+1 {{'ckks.encode' op complex values come in (real, imaginary) pairs}}
  %0 = ckks.encode complex [1.0, 2.0, 3.0] : !ckks.pt<level = 1, degree = 1>
  return
}

// -----

func.func @complex_odd_f32_values() {
  // expected-error@+1 {{'ckks.encode' op complex values come in (real, imaginary) pairs}}
  %0 = ckks.encode complex f32 [1.0] count 4 : !ckks.pt<level = 1, degree = 0>
  return
}

// -----

func.func @complex_count_not_a_multiple() {
  // Two pairs are a period of 2 complex slots: count 3 does not repeat it.
  // expected-error@+1 {{'ckks.encode' op count 3 is not a multiple of the 2 stored values}}
  %0 = ckks.encode complex [1.0, 0.0, 0.0, 1.0] count 3 : !ckks.pt<level = 1, degree = 1>
  return
}

// -----

func.func @complex_count_counts_pairs() {
  // Count 4 would be a multiple of the 4 real values but is 4 complex
  // slots; 6 is not a multiple of the 4 complex slots of 8 values.
  // expected-error@+1 {{'ckks.encode' op count 6 is not a multiple of the 4 stored values}}
  %0 = ckks.encode complex f32 [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0] offset 1 count 6 : !ckks.pt<level = 1, degree = 1>
  return
}

// -----

func.func @complex_count_below_the_period() {
  // expected-error@+1 {{'ckks.encode' op count 1 is not a multiple of the 2 stored values}}
  %0 = ckks.encode complex [1.0, 0.0, 0.0, 1.0] count 1 : !ckks.pt<level = 1, degree = 1>
  return
}

// -----

func.func @complex_empty() {
  // expected-error@+1 {{'ckks.encode' op needs at least one slot value}}
  %0 = ckks.encode complex [] : !ckks.pt<level = 1, degree = 0>
  return
}

// -----

func.func @complex_negative_offset() {
  // expected-error@+1 {{'ckks.encode' op offset must be non-negative, got -2}}
  %0 = ckks.encode complex [0.0, 1.0] offset -2 : !ckks.pt<level = 1, degree = 0>
  return
}

// -----

// expected-error@+1 {{plaintext scale degree must be 0, 1 or 2, got 3}}
func.func @plaintext_degree3(%p: !ckks.pt<level = 1, degree = 3>) {
  return
}

// -----

func.func @degree0_plaintext_level(%a: !ckks.ct<level = 2, degree = 1>) {
  %i = ckks.encode complex [0.0, 1.0] count 4 : !ckks.pt<level = 3, degree = 0>
  // expected-error@+1 {{plaintext must be at the ciphertext's level (2 vs 3)}}
  %0 = ckks.mul_plain %a, %i : !ckks.ct<level = 2, degree = 1>, !ckks.pt<level = 3, degree = 0>
  return
}

// -----

func.func @degree0_add_plain(%a: !ckks.ct<level = 2, degree = 1>) {
  // Adding needs the ciphertext's scale: a degree-0 plaintext only multiplies.
  %i = ckks.encode complex [0.0, 1.0] count 4 : !ckks.pt<level = 2, degree = 0>
  // expected-error@+1 {{plaintext must match the ciphertext's level and scale degree (level 2, degree 1, size 2 vs level 2, degree 0)}}
  %0 = ckks.add_plain %a, %i : !ckks.ct<level = 2, degree = 1>, !ckks.pt<level = 2, degree = 0>
  return
}

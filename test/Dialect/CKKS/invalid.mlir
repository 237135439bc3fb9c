// RUN: cerium-opt %s -split-input-file -verify-diagnostics
// Every level and scale rule of the type system, violated once.

func.func @add_levels(%a: !ckks.ct<level = 3, degree = 1>, %b: !ckks.ct<level = 2, degree = 1>) {
  // expected-error@+1 {{operands must have the same level and scale degree (level 3, degree 1, size 2 vs level 2, degree 1, size 2)}}
  %0 = ckks.add %a, %b : !ckks.ct<level = 3, degree = 1>, !ckks.ct<level = 2, degree = 1>
  return
}

// -----

func.func @add_degrees(%a: !ckks.ct<level = 3, degree = 1>, %b: !ckks.ct<level = 3, degree = 2>) {
  // expected-error@+1 {{operands must have the same level and scale degree}}
  %0 = ckks.sub %a, %b : !ckks.ct<level = 3, degree = 1>, !ckks.ct<level = 3, degree = 2>
  return
}

// -----

func.func @mul_unrelinearized(%a: !ckks.ct<level = 3, degree = 1, size = 3>, %b: !ckks.ct<level = 3, degree = 1>) {
  // expected-error@+1 {{multiplication operands must be relinearized (size 2)}}
  %0 = ckks.mul %a, %b : !ckks.ct<level = 3, degree = 1, size = 3>, !ckks.ct<level = 3, degree = 1>
  return
}

// -----

func.func @mul_degree(%a: !ckks.ct<level = 3, degree = 2>, %b: !ckks.ct<level = 3, degree = 1>) {
  // expected-error@+1 {{product would have scale degree 3; rescale an operand first}}
  %0 = ckks.mul %a, %b : !ckks.ct<level = 3, degree = 2>, !ckks.ct<level = 3, degree = 1>
  return
}

// -----

func.func @mul_levels(%a: !ckks.ct<level = 3, degree = 1>, %b: !ckks.ct<level = 1, degree = 1>) {
  // expected-error@+1 {{multiplication operands must be at the same level (3 vs 1)}}
  %0 = ckks.mul %a, %b : !ckks.ct<level = 3, degree = 1>, !ckks.ct<level = 1, degree = 1>
  return
}

// -----

func.func @rescale_bottom(%a: !ckks.ct<level = 0, degree = 2>) {
  // expected-error@+1 {{cannot rescale at level 0: no primes left to drop}}
  %0 = ckks.rescale %a : !ckks.ct<level = 0, degree = 2>
  return
}

// -----

func.func @rescale_degree(%a: !ckks.ct<level = 2, degree = 1>) {
  // expected-error@+1 {{rescale expects scale degree 2 (a product), got 1}}
  %0 = ckks.rescale %a : !ckks.ct<level = 2, degree = 1>
  return
}

// -----

func.func @relinearize_twice(%a: !ckks.ct<level = 2, degree = 2>) {
  // expected-error@+1 {{relinearize expects a size-3 ciphertext}}
  %0 = ckks.relinearize %a : !ckks.ct<level = 2, degree = 2>
  return
}

// -----

func.func @rotate_size3(%a: !ckks.ct<level = 2, degree = 2, size = 3>) {
  // expected-error@+1 {{operand must be relinearized (size 2), got size 3}}
  %0 = ckks.rotate %a by 1 : !ckks.ct<level = 2, degree = 2, size = 3>
  return
}

// -----

func.func @plain_level(%a: !ckks.ct<level = 2, degree = 1>, %p: !ckks.pt<level = 3, degree = 1>) {
  // expected-error@+1 {{plaintext must be at the ciphertext's level (2 vs 3)}}
  %0 = ckks.mul_plain %a, %p : !ckks.ct<level = 2, degree = 1>, !ckks.pt<level = 3, degree = 1>
  return
}

// -----

func.func @add_plain_degree(%a: !ckks.ct<level = 2, degree = 1>, %p: !ckks.pt<level = 2, degree = 2>) {
  // expected-error@+1 {{plaintext must match the ciphertext's level and scale degree}}
  %0 = ckks.add_plain %a, %p : !ckks.ct<level = 2, degree = 1>, !ckks.pt<level = 2, degree = 2>
  return
}

// -----

func.func @level_up(%a: !ckks.ct<level = 2, degree = 1>) {
  // expected-error@+1 {{level_down target 3 is not at or below the input level 2}}
  %0 = ckks.level_down %a to 3 : !ckks.ct<level = 2, degree = 1>
  return
}

// -----

func.func @level_down_product(%a: !ckks.ct<level = 2, degree = 2>) {
  // expected-error@+1 {{level_down expects a rescaled, relinearized value (degree 1, size 2)}}
  %0 = ckks.level_down %a to 1 : !ckks.ct<level = 2, degree = 2>
  return
}

// -----

// expected-error@+1 {{ciphertext size must be 2 or 3 polynomials, got 4}}
func.func @bad_size(%a: !ckks.ct<level = 2, degree = 1, size = 4>) {
  return
}

// -----

// expected-error@+1 {{ciphertext scale degree must be 1 or 2, got 3}}
func.func @bad_degree(%a: !ckks.ct<level = 2, degree = 3>) {
  return
}

// -----

func.func @empty_encode() {
  // expected-error@+1 {{'ckks.encode' op needs at least one slot value}}
  %0 = ckks.encode [] : !ckks.pt<level = 1, degree = 1>
  return
}

// -----

func.func @mul_const_degree(%a: !ckks.ct<level = 2, degree = 2>) {
  // expected-error@+1 {{product would have scale degree 3; rescale first}}
  %0 = ckks.mul_const %a by 2.0 : !ckks.ct<level = 2, degree = 2>
  return
}

// -----

func.func @encode_count_not_a_multiple() {
  // expected-error@+1 {{'ckks.encode' op count 5 is not a multiple of the 2 stored values}}
  %0 = ckks.encode f32 [1.0, 2.0] count 5 : !ckks.pt<level = 1, degree = 1>
  return
}

// -----

func.func @encode_count_below_the_period() {
  // expected-error@+1 {{'ckks.encode' op count 0 is not a multiple of the 2 stored values}}
  %0 = ckks.encode [1.0, 2.0] count 0 : !ckks.pt<level = 1, degree = 1>
  return
}

// -----

func.func @encode_negative_offset() {
  // expected-error@+1 {{'ckks.encode' op offset must be non-negative, got -1}}
  %0 = ckks.encode f32 [1.0] offset -1 : !ckks.pt<level = 1, degree = 1>
  return
}

// -----

func.func @encode_offset_overflows() {
  // expected-error@+1 {{'ckks.encode' op offset + count overflows}}
  %0 = ckks.encode f32 [1.0] offset 9223372036854775807 count 2 : !ckks.pt<level = 1, degree = 1>
  return
}

// -----

func.func @encode_empty_f32() {
  // expected-error@+1 {{'ckks.encode' op needs at least one slot value}}
  %0 = ckks.encode f32 [] : !ckks.pt<level = 1, degree = 1>
  return
}

// -----

func.func @encode_values_of_another_type() {
  // expected-error@+1 {{'ckks.encode' op attribute 'values' failed to satisfy constraint}}
  %0 = "ckks.encode"() {values = array<i32: 1, 2>} : () -> !ckks.pt<level = 1, degree = 1>
  return
}

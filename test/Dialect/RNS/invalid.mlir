// RUN: cerium-opt %s -split-input-file -verify-diagnostics
// The limb-array rules of the rns ops, each broken once.

// expected-error@+1 {{prime 1 appears twice}}
func.func @duplicate(%a: !rns.limbs<0 to 2, 1>)

// -----

func.func @slice_out_of_range(%a: !rns.limbs<0 to 2>) {
  // expected-error@+1 {{result must be limbs [offset, offset + count) of the operand}}
  %0 = rns.slice %a at 2 : !rns.limbs<0 to 2> -> !rns.limbs<2 to 3>
  return
}

// -----

func.func @concat_order(%a: !rns.limbs<0>, %b: !rns.limbs<1>) {
  // expected-error@+1 {{result primes must be the operands' primes in order}}
  %0 = rns.concat %a, %b : !rns.limbs<0>, !rns.limbs<1> -> !rns.limbs<1, 0>
  return
}

// -----

func.func @overlapping_conversion(%a: !rns.limbs<0 to 1>) {
  // expected-error@+1 {{converts between disjoint bases}}
  %0 = rns.base_convert %a : !rns.limbs<0 to 1> -> !rns.limbs<1 to 2>
  return
}

// -----

func.func @divide_by_own_prime(%a: !rns.limbs<0 to 1>) {
  // expected-error@+1 {{divides by primes the operand lives on}}
  %0 = rns.mul_inv %a by [1] : !rns.limbs<0 to 1>
  return
}

// -----

func.func @kernel_types(%a: !rns.limbs<0 to 1>, %b: !rns.limbs<0 to 2>) {
  // expected-error@+1 {{operands and results must share one limbs type}}
  %0 = rns.kernel(%a, %b) : (!rns.limbs<0 to 1>, !rns.limbs<0 to 2>) -> !rns.limbs<0 to 1> {
  ^bb0(%x: i32, %y: i32):
    %1 = rns.add %x, %y : i32
    rns.yield %1 : i32
  }
  return
}

// -----

func.func @kernel_yield(%a: !rns.limbs<0 to 1>) {
  // expected-error@+1 {{body yields one residue per result}}
  %0:2 = rns.kernel(%a) : (!rns.limbs<0 to 1>) -> (!rns.limbs<0 to 1>, !rns.limbs<0 to 1>) {
  ^bb0(%x: i32):
    rns.yield %x : i32
  }
  return
}

// -----

func.func @key_switch_types(%a: !rns.limbs<0 to 1>, %b: !rns.limbs<0 to 2>) {
  // expected-error@+1 {{digits must share one limbs type}}
  %0, %1 = rns.key_switch %a, %b : !rns.limbs<0 to 1>, !rns.limbs<0 to 2> -> !rns.limbs<0 to 1>
  return
}

// -----

func.func @encode_count_not_a_multiple() {
  // expected-error@+1 {{'rns.encode' op count 7 is not a multiple of the 3 stored values}}
  %0 = rns.encode f32 [1.0, 2.0, 3.0] count 7 level 2 degree 1 : !rns.limbs<0 to 2>
  return
}

// -----

func.func @encode_stored_count_not_a_multiple() {
  // expected-error@+1 {{'rns.encode' op count 5 is not a multiple of the 2 stored values}}
  %0 = rns.encode stored<2 x f32 at 8> count 5 level 2 degree 1 : !rns.limbs<0 to 2>
  return
}

// -----

func.func @encode_stored_input() {
  // expected-error@+1 {{'rns.encode' op indexes a run-time input with values kept outside the program}}
  %0 = rns.encode stored<2 x f64 at 8> input 1 level 2 degree 1 : !rns.limbs<0 to 2>
  return
}

// -----

func.func @encode_stored_f16() {
  // expected-error@+1 {{expected 'f64'}}
  %0 = rns.encode stored<2 x f16 at 8> level 2 degree 1 : !rns.limbs<0 to 2>
  return
}

// -----

func.func @encode_negative_offset() {
  // expected-error@+1 {{'rns.encode' op offset must be non-negative, got -4}}
  %0 = rns.encode [1.0] offset -4 level 2 degree 1 : !rns.limbs<0 to 2>
  return
}

// -----

func.func @permute_even(%d: !rns.limbs<0 to 1>) -> !rns.limbs<0 to 1> {
  // expected-error @+1 {{permutes its digits by an odd Galois element}}
  %b, %a = rns.key_switch %d {galois = 5 : i64, permute = 4 : i64} : !rns.limbs<0 to 1> -> !rns.limbs<0 to 1>
  return %b : !rns.limbs<0 to 1>
}

// -----

func.func @permute_negative(%d: !rns.limbs<0 to 1>) -> !rns.limbs<0 to 1> {
  // expected-error @+1 {{permutes its digits by an odd Galois element}}
  %b, %a = rns.key_switch %d {galois = 5 : i64, permute = -3 : i64} : !rns.limbs<0 to 1> -> !rns.limbs<0 to 1>
  return %b : !rns.limbs<0 to 1>
}

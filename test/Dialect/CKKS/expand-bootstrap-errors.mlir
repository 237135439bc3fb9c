// RUN: cerium-opt %s --ckks-expand-bootstrap -split-input-file -verify-diagnostics
// ckks-expand-bootstrap needs the layout, the config and the slot count on
// the module, a power-of-two slot count up to N/2, and a chain with the
// config's depth (7 here: see expand-bootstrap.mlir) above the result.

// A module without bootstraps needs none of the attributes.
module {
  func.func @nothing(%a: !ckks.ct<level = 1, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
    return %a : !ckks.ct<level = 1, degree = 1>
  }
}

// -----

// Missing ckks.rns: the layout reader reports it too.
// expected-error@+2 {{the module's 'ckks.rns' attribute is missing}}
// expected-error@+1 {{ckks-expand-bootstrap needs the module attributes ckks.rns, ckks.bootstrap and ckks.slots}}
module attributes {ckks.slots = 4 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
  func.func @no_layout(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
    %0 = ckks.bootstrap %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 1, degree = 1>
    return %0 : !ckks.ct<level = 1, degree = 1>
  }
}

// -----

// expected-error@+1 {{ckks-expand-bootstrap needs the module attributes ckks.rns, ckks.bootstrap and ckks.slots}}
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 4 : i64} {
  func.func @no_config(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
    %0 = ckks.bootstrap %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 1, degree = 1>
    return %0 : !ckks.ct<level = 1, degree = 1>
  }
}

// -----

// expected-error@+1 {{ckks-expand-bootstrap needs the module attributes ckks.rns, ckks.bootstrap and ckks.slots}}
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
  func.func @no_slots(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
    %0 = ckks.bootstrap %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 1, degree = 1>
    return %0 : !ckks.ct<level = 1, degree = 1>
  }
}

// -----

// A config field out of range (degree 0) reads as no config.
// expected-error@+1 {{ckks-expand-bootstrap needs the module attributes ckks.rns, ckks.bootstrap and ckks.slots}}
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 4 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 0, double_angles = 1, overflow = 2}} {
  func.func @bad_config(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
    %0 = ckks.bootstrap %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 1, degree = 1>
    return %0 : !ckks.ct<level = 1, degree = 1>
  }
}

// -----

// A config field missing (overflow) reads as no config.
// expected-error@+1 {{ckks-expand-bootstrap needs the module attributes ckks.rns, ckks.bootstrap and ckks.slots}}
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 4 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1}} {
  func.func @partial_config(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
    %0 = ckks.bootstrap %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 1, degree = 1>
    return %0 : !ckks.ct<level = 1, degree = 1>
  }
}

// -----

// Levels 0..9 and depth 7: a result at level 3 would need level 10.
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 4 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
  func.func @chain_too_short(%a: !ckks.ct<level = 3, degree = 1>) -> !ckks.ct<level = 3, degree = 1> {
    // expected-error@+1 {{'ckks.bootstrap' op needs 7 levels above level 3, the chain has 9}}
    %0 = ckks.bootstrap %a : !ckks.ct<level = 3, degree = 1> -> !ckks.ct<level = 3, degree = 1>
    return %0 : !ckks.ct<level = 3, degree = 1>
  }
}

// -----

// Even level 0 needs a deeper chain than levels 0..5.
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 16 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
  func.func @chain_too_short_for_any(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 0, degree = 1> {
    // expected-error@+1 {{'ckks.bootstrap' op needs 7 levels above level 0, the chain has 5}}
    %0 = ckks.bootstrap %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 0, degree = 1>
    return %0 : !ckks.ct<level = 0, degree = 1>
  }
}

// -----

// A larger config: depth 3 + 5 + 4 + 2 + 3 = 17 for degree 31, four
// double angles and three DFT levels each way.
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 4 : i64, ckks.bootstrap = {coeffs_to_slots = 3, slots_to_coeffs = 3, degree = 31, double_angles = 4, overflow = 12}} {
  func.func @deep_config(%a: !ckks.ct<level = 1, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
    // expected-error@+1 {{'ckks.bootstrap' op needs 17 levels above level 1, the chain has 9}}
    %0 = ckks.bootstrap %a : !ckks.ct<level = 1, degree = 1> -> !ckks.ct<level = 1, degree = 1>
    return %0 : !ckks.ct<level = 1, degree = 1>
  }
}

// -----

// A declared level above the whole chain.
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 4 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
  func.func @above_the_chain(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 12, degree = 1> {
    // expected-error@+1 {{'ckks.bootstrap' op needs 7 levels above level 12, the chain has 9}}
    %0 = ckks.bootstrap %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 12, degree = 1>
    return %0 : !ckks.ct<level = 12, degree = 1>
  }
}

// -----

// 3 slots: not a power of two.
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 3 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
  func.func @three_slots(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
    // expected-error@+1 {{'ckks.bootstrap' op slot count is not a power of two up to N/2}}
    %0 = ckks.bootstrap %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 1, degree = 1>
    return %0 : !ckks.ct<level = 1, degree = 1>
  }
}

// -----

// 32 slots: more than N/2 = 16.
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 32 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2}} {
  func.func @too_many_slots(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
    // expected-error@+1 {{'ckks.bootstrap' op slot count is not a power of two up to N/2}}
    %0 = ckks.bootstrap %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 1, degree = 1>
    return %0 : !ckks.ct<level = 1, degree = 1>
  }
}

// -----

// SlotToCoeff first takes the input at its level (1), not below.
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 16 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2, stc_first}} {
  func.func @input_too_low(%a: !ckks.ct<level = 0, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
    // expected-error@+1 {{'ckks.bootstrap' op takes its input at level 1 or above (SlotToCoeff comes first)}}
    %0 = ckks.bootstrap %a : !ckks.ct<level = 0, degree = 1> -> !ckks.ct<level = 1, degree = 1>
    return %0 : !ckks.ct<level = 1, degree = 1>
  }
}

// -----

// SlotToCoeff first is for full slots: 4 of N/2 = 16 would need the other
// order's shared EvalMod.
module attributes {ckks.rns = {log_n = 5, base = 1, per_level = 1, special = 1, digit = 1, moduli = array<i64: 193, 257, 449, 577, 641, 769, 1153, 1217, 1409, 1601, 2113>, scales = array<f64: 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0, 1024.0>}, ckks.slots = 4 : i64, ckks.bootstrap = {coeffs_to_slots = 1, slots_to_coeffs = 1, degree = 3, double_angles = 1, overflow = 2, stc_first}} {
  func.func @sparse(%a: !ckks.ct<level = 1, degree = 1>) -> !ckks.ct<level = 1, degree = 1> {
    // expected-error@+1 {{'ckks.bootstrap' op SlotToCoeff first needs all N/2 slots}}
    %0 = ckks.bootstrap %a : !ckks.ct<level = 1, degree = 1> -> !ckks.ct<level = 1, degree = 1>
    return %0 : !ckks.ct<level = 1, degree = 1>
  }
}

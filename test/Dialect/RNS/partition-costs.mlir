// RUN: cerium-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(rns-partition{ranks=2}))' | FileCheck %s --check-prefix=DEFAULT
// RUN: cerium-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(rns-partition{ranks=2 word-cost=0 message-cost=0}))' | FileCheck %s --check-prefix=FREE
// RUN: cerium-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(rns-partition{ranks=2 word-cost=20}))' | FileCheck %s --check-prefix=WORDY
// RUN: cerium-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(rns-partition{ranks=2 message-cost=1e7}))' | FileCheck %s --check-prefix=CHATTY

// The auto plan per component, and how the link's prices (word-cost per
// word moved, message-cost per collective, in modular products) move it.

// A mixed plan: two small base conversions (split, each would gather half
// of its 4 input limbs to make 1 limb) go whole, one to each rank; the large NTT
// chain, with no conversion, is split limb-wise and only its result is
// gathered. (The chain is the largest, so it is planned first; the two
// conversions then go to the least loaded rank in turn: 0, then 1.)
// DEFAULT-LABEL: func @mixed
// DEFAULT: rns.base_convert %arg0 {rns.on = 0 : i64}
// DEFAULT: rns.base_convert %arg1 {rns.on = 1 : i64}
// DEFAULT: rns.ntt %arg2 {rns.on = "limbs"}
// DEFAULT: rns.intt {{.*}}rns.on = "limbs"
// DEFAULT: rns.all_gather %{{.*}} from 0 : <4>
// DEFAULT-NEXT: rns.all_gather %{{.*}} from 1 : <4>
// DEFAULT-NEXT: rns.all_gather %{{.*}} from -1 : <0 to 29>
// DEFAULT-NEXT: return

// With a free link, splitting halves every component's work: all of it
// goes limb-wise.
// FREE-LABEL: func @mixed
// FREE: rns.base_convert %arg0 {rns.on = "limbs"}
// FREE: rns.base_convert %arg1 {rns.on = "limbs"}
// FREE: rns.ntt %arg2 {rns.on = "limbs"}
// FREE-NOT: rns.on = {{[0-9]}}
// FREE: return
module attributes {ckks.rns = {log_n = 16 : i64}} {
func.func @mixed(%x: !rns.limbs<0 to 3>, %y: !rns.limbs<0 to 3>, %z: !rns.limbs<0 to 29>) -> (!rns.limbs<4>, !rns.limbs<4>, !rns.limbs<0 to 29>) {
  %u = rns.base_convert %x : !rns.limbs<0 to 3> -> !rns.limbs<4>
  %v = rns.base_convert %y : !rns.limbs<0 to 3> -> !rns.limbs<4>
  %n = rns.ntt %z : !rns.limbs<0 to 29>
  %i = rns.intt %n : !rns.limbs<0 to 29>
  return %u, %v, %i : !rns.limbs<4>, !rns.limbs<4>, !rns.limbs<0 to 29>
}
}

// -----

// A ModUp-shaped chain: 4 limbs converted to 1. Split, it saves half the
// compute (24 N of 48 N modular products) but moves 1.5 N words more
// (each rank gathers 2 N before the conversion and N / 2 of the result;
// whole, the result's N travels) and makes one collective more: at 12 per
// word splitting wins, at 20 per word it loses and the chain runs whole on
// rank 0.
// DEFAULT-LABEL: func @modup
// DEFAULT: rns.intt {{.*}}rns.on = "limbs"
// DEFAULT: rns.all_gather %[[C:.*]] from -1 : <0 to 3>
// DEFAULT-NEXT: rns.base_convert %[[C]] {rns.on = "limbs"}
// DEFAULT: rns.ntt {{.*}}rns.on = "limbs"
// DEFAULT: rns.all_gather %{{.*}} from -1 : <4>

// WORDY-LABEL: func @modup
// WORDY: rns.intt {{.*}}rns.on = 0
// WORDY-NOT: from -1
// WORDY: rns.base_convert {{.*}}rns.on = 0
// WORDY: rns.ntt {{.*}}rns.on = 0
// WORDY: rns.all_gather %{{.*}} from 0 : <4>
// WORDY-NEXT: return
module attributes {ckks.rns = {log_n = 16 : i64}} {
func.func @modup(%x: !rns.limbs<0 to 3>) -> !rns.limbs<4> {
  %c = rns.intt %x : !rns.limbs<0 to 3>
  %u = rns.base_convert %c : !rns.limbs<0 to 3> -> !rns.limbs<4>
  %n = rns.ntt %u : !rns.limbs<4>
  return %n : !rns.limbs<4>
}
}

// -----

// A rescale-shaped chain: split, it makes two collectives (before the
// conversion and before the return), whole one. When a collective costs
// as much as the compute split saves (message-cost 1e7, a slow network's
// latency), the chain runs whole on rank 0.
// DEFAULT-LABEL: func @rescale
// DEFAULT: rns.base_convert {{.*}}rns.on = "limbs"
// DEFAULT: rns.all_gather %{{.*}} from -1 : <0 to 2>

// CHATTY-LABEL: func @rescale
// CHATTY: rns.encode {{.*}}rns.on = 0
// CHATTY-NOT: from -1
// CHATTY: rns.base_convert {{.*}}rns.on = 0
// CHATTY: rns.all_gather %{{.*}} from 0 : <0 to 2>
// CHATTY-NEXT: return
module attributes {ckks.rns = {log_n = 16 : i64}} {
func.func @rescale(%x: !rns.limbs<0 to 3>) -> !rns.limbs<0 to 2> {
  %c = rns.encode [1.0] level 3 degree 1 : !rns.limbs<0 to 3>
  %m = rns.kernel(%x, %c) : (!rns.limbs<0 to 3>, !rns.limbs<0 to 3>) -> !rns.limbs<0 to 3> {
  ^bb0(%a: i32, %b: i32):
    %0 = rns.mul %a, %b : i32
    rns.yield %0 : i32
  }
  %top = rns.slice %m at 3 : !rns.limbs<0 to 3> -> !rns.limbs<3>
  %coeffs = rns.intt %top : !rns.limbs<3>
  %conv = rns.base_convert %coeffs : !rns.limbs<3> -> !rns.limbs<0 to 2>
  %n = rns.ntt %conv : !rns.limbs<0 to 2>
  %kept = rns.slice %m at 0 : !rns.limbs<0 to 3> -> !rns.limbs<0 to 2>
  %r = rns.kernel(%kept, %n) : (!rns.limbs<0 to 2>, !rns.limbs<0 to 2>) -> !rns.limbs<0 to 2> {
  ^bb0(%a: i32, %b: i32):
    %0 = rns.sub %a, %b : i32
    rns.yield %0 : i32
  }
  return %r : !rns.limbs<0 to 2>
}
}

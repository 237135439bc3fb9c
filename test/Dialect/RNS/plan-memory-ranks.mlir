// RUN: cerium-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(rns-plan-memory,rns-partition{ranks=2 mode=limbs},rns-plan-memory{rank=0}))' | FileCheck %s --check-prefix=R0
// RUN: cerium-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(rns-plan-memory,rns-partition{ranks=2 mode=limbs},rns-plan-memory{rank=1}))' | FileCheck %s --check-prefix=R1
// RUN: cerium-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(rns-plan-memory,rns-partition{ranks=2 mode=ciphertexts},rns-plan-memory{rank=1}))' | FileCheck %s --check-prefix=CTS

// One process's memory of a partitioned schedule (offsets in limbs). Rank 0
// owns the even primes, rank 1 the odd ones. Arrays that limb-wise ops make
// and read hold those limbs only (rns.held = 1): the constant and the
// products take 4 limbs, not 8, and the second product overwrites the
// first in place (same form). A slice of such an array starts after the
// owned limbs before it: prime 7 is rank 1's, after its 3 of primes 0-6, and
// rank 0 owns none of it (an empty slice). The input, the conversion's
// gathered input and the returned (gathered) result stay whole.

// R0-LABEL: func @rescale
// R0-SAME: rns.arena_limbs = 16
// R0-SAME: rns.plan_rank = 0
// R0: rns.encode {{.*}}rns.held = array<i64: 1>, rns.offsets = array<i64: 8>
// R0: rns.kernel{{.*}}rns.held = array<i64: 1>, rns.offsets = array<i64: 12>
// R0: rns.kernel{{.*}}rns.held = array<i64: 1>, rns.offsets = array<i64: 12>
// R0: rns.slice %{{.*}} at 7 {rns.held = array<i64: 1>, rns.offsets = array<i64: 16>
// R0: rns.intt %{{.*}} {rns.offsets = array<i64: 0>
// R0: rns.base_convert %{{.*}} {rns.held = array<i64: 1>, rns.offsets = array<i64: 1>
// R0: rns.ntt %{{.*}} {rns.held = array<i64: 1>, rns.offsets = array<i64: 1>
// R0: rns.slice %{{.*}} at 0 {rns.held = array<i64: 1>, rns.offsets = array<i64: 12>
// R0: rns.kernel{{.*}}attributes {rns.offsets = array<i64: 5>

// R1-LABEL: func @rescale
// R1-SAME: rns.plan_rank = 1
// R1: rns.slice %{{.*}} at 7 {rns.held = array<i64: 1>, rns.offsets = array<i64: 15>

module attributes {ckks.rns = {log_n = 16 : i64}} {
func.func @rescale(%x: !rns.limbs<0 to 7>) -> !rns.limbs<0 to 6> {
  %c = rns.encode [1.0] level 7 degree 1 : !rns.limbs<0 to 7>
  %sq = rns.kernel(%x, %x) : (!rns.limbs<0 to 7>, !rns.limbs<0 to 7>) -> !rns.limbs<0 to 7> {
  ^bb0(%a: i32, %b: i32):
    %0 = rns.mul %a, %b : i32
    rns.yield %0 : i32
  }
  %m = rns.kernel(%sq, %c) : (!rns.limbs<0 to 7>, !rns.limbs<0 to 7>) -> !rns.limbs<0 to 7> {
  ^bb0(%a: i32, %b: i32):
    %0 = rns.mul %a, %b : i32
    rns.yield %0 : i32
  }
  %top = rns.slice %m at 7 : !rns.limbs<0 to 7> -> !rns.limbs<7>
  %coeffs = rns.intt %top : !rns.limbs<7>
  %conv = rns.base_convert %coeffs : !rns.limbs<7> -> !rns.limbs<0 to 6>
  %n = rns.ntt %conv : !rns.limbs<0 to 6>
  %kept = rns.slice %m at 0 : !rns.limbs<0 to 7> -> !rns.limbs<0 to 6>
  %r = rns.kernel(%kept, %n) : (!rns.limbs<0 to 6>, !rns.limbs<0 to 6>) -> !rns.limbs<0 to 6> {
  ^bb0(%a: i32, %b: i32):
    %0 = rns.sub %a, %b : i32
    rns.yield %0 : i32
  }
  return %r : !rns.limbs<0 to 6>
}
}

// -----

// By ciphertext: each chain runs whole on one rank. On rank 1 the arrays
// of rank 0's chain take no space (rns.held = 2) except its result, which
// rank 0 sends (a broadcast into it): 12 limbs instead of the 16 of one
// process's plan.

// CTS-LABEL: func @independent
// CTS-SAME: rns.arena_limbs = 12
// CTS: rns.kernel{{.*}}rns.held = array<i64: 2>{{.*}}rns.on = 0
// CTS: rns.ntt {{.*}}rns.held = array<i64: 2>{{.*}}rns.on = 0
// CTS: rns.intt {{.*}}rns.held = array<i64: 2>{{.*}}rns.on = 0
// CTS: rns.kernel{{.*}}attributes {rns.offsets = array<i64: 4>, rns.on = 1
// CTS: rns.kernel{{.*}}attributes {rns.offsets = array<i64: 8>, rns.on = 0
// CTS: rns.kernel{{.*}}attributes {rns.offsets = array<i64: 0>, rns.on = 1
module attributes {ckks.rns = {log_n = 16 : i64}} {
func.func @independent(%x: !rns.limbs<0 to 3>, %y: !rns.limbs<0 to 3>) -> (!rns.limbs<0 to 3>, !rns.limbs<0 to 3>) {
  %a = rns.kernel(%x, %x) : (!rns.limbs<0 to 3>, !rns.limbs<0 to 3>) -> !rns.limbs<0 to 3> {
  ^bb0(%p: i32, %q: i32):
    %0 = rns.mul %p, %q : i32
    rns.yield %0 : i32
  }
  %an = rns.ntt %a : !rns.limbs<0 to 3>
  %ai = rns.intt %a : !rns.limbs<0 to 3>
  %b = rns.kernel(%y, %y) : (!rns.limbs<0 to 3>, !rns.limbs<0 to 3>) -> !rns.limbs<0 to 3> {
  ^bb0(%p: i32, %q: i32):
    %0 = rns.mul %p, %q : i32
    rns.yield %0 : i32
  }
  %bn = rns.ntt %b : !rns.limbs<0 to 3>
  %bi = rns.intt %b : !rns.limbs<0 to 3>
  %s = rns.kernel(%an, %ai) : (!rns.limbs<0 to 3>, !rns.limbs<0 to 3>) -> !rns.limbs<0 to 3> {
  ^bb0(%p: i32, %q: i32):
    %0 = rns.add %p, %q : i32
    rns.yield %0 : i32
  }
  %t = rns.kernel(%bn, %bi) : (!rns.limbs<0 to 3>, !rns.limbs<0 to 3>) -> !rns.limbs<0 to 3> {
  ^bb0(%p: i32, %q: i32):
    %0 = rns.add %p, %q : i32
    rns.yield %0 : i32
  }
  return %s, %t : !rns.limbs<0 to 3>, !rns.limbs<0 to 3>
}
}

// RUN: cerium-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(rns-partition{ranks=2 mode=limbs}))' | FileCheck %s --check-prefix=LIMBS
// RUN: cerium-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(rns-partition{ranks=2 mode=ciphertexts}))' | FileCheck %s --check-prefix=CTS
// RUN: cerium-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(rns-partition{ranks=2}))' | FileCheck %s --check-prefix=AUTO
// RUN: cerium-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(rns-partition{ranks=1}))' | FileCheck %s --check-prefix=ONE

// A rescale-shaped chain: the dropped limb is converted to the kept ones.
// Limb-wise, every op runs on each rank's primes and the conversion's input
// is gathered first (from -1: limb-wise); the result is gathered before the
// return. The encoded constant, used by limb-wise ops only, is encoded
// limb-wise too. On one rank nothing changes.

// LIMBS-LABEL: func @rescale
// LIMBS-SAME: rns.ranks = 2
// LIMBS: rns.encode [1.000000e+00] level 3 degree 1 {rns.on = "limbs"} : <0 to 3>
// LIMBS: rns.kernel{{.*}}rns.on = "limbs"
// LIMBS: rns.intt {{.*}}rns.on = "limbs"
// LIMBS: rns.all_gather %[[D:.*]] from -1 : <3>
// LIMBS-NEXT: rns.base_convert %[[D]] {rns.on = "limbs"}
// LIMBS: rns.ntt {{.*}}rns.on = "limbs"
// LIMBS: rns.all_gather %[[R:.*]] from -1 : <0 to 2>
// LIMBS-NEXT: return %[[R]]

// By ciphertext, the whole chain is one group on one rank: nothing moves
// until the result is sent from there (from 0).
// CTS-LABEL: func @rescale
// CTS: rns.kernel{{.*}}rns.on = 0
// CTS-NOT: rns.all_gather {{.*}} from -1
// CTS: rns.base_convert {{.*}}rns.on = 0
// CTS: rns.all_gather %[[R:.*]] from 0
// CTS-NEXT: return %[[R]]

// ONE-LABEL: func @rescale
// ONE-NOT: rns.ranks
// ONE-NOT: rns.on
// ONE-NOT: rns.all_gather
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

// -----

// Two independent products (e.g. two output channels): by cost, each goes
// whole to its own rank, where it needs no communication; the two results
// are sent from their ranks at the end.
// AUTO-LABEL: func @independent
// AUTO: rns.kernel{{.*}}rns.on = [[A:[01]]]
// AUTO: rns.kernel{{.*}}rns.on = [[B:[01]]]
// AUTO: rns.all_gather %{{.*}} from [[A]]
// AUTO: rns.all_gather %{{.*}} from [[B]]
// AUTO-NOT: rns.all_gather
module attributes {ckks.rns = {log_n = 16 : i64}} {
func.func @independent(%x: !rns.limbs<0 to 3>, %y: !rns.limbs<0 to 3>) -> (!rns.limbs<0 to 3>, !rns.limbs<0 to 3>) {
  %a = rns.kernel(%x, %x) : (!rns.limbs<0 to 3>, !rns.limbs<0 to 3>) -> !rns.limbs<0 to 3> {
  ^bb0(%p: i32, %q: i32):
    %0 = rns.mul %p, %q : i32
    rns.yield %0 : i32
  }
  %b = rns.kernel(%y, %y) : (!rns.limbs<0 to 3>, !rns.limbs<0 to 3>) -> !rns.limbs<0 to 3> {
  ^bb0(%p: i32, %q: i32):
    %0 = rns.mul %p, %q : i32
    rns.yield %0 : i32
  }
  return %a, %b : !rns.limbs<0 to 3>, !rns.limbs<0 to 3>
}
}

// -----

// One large chain at N = 2^16 with a cheap link: split limb-wise.
// AUTO-LABEL: func @large
// AUTO: rns.ntt {{.*}}rns.on = "limbs"
module attributes {ckks.rns = {log_n = 16 : i64}} {
func.func @large(%x: !rns.limbs<0 to 29>) -> !rns.limbs<0 to 29> {
  %n = rns.ntt %x : !rns.limbs<0 to 29>
  %i = rns.intt %n : !rns.limbs<0 to 29>
  %m = rns.ntt %i : !rns.limbs<0 to 29>
  return %m : !rns.limbs<0 to 29>
}
}

// RUN: cerium-opt %s --pass-pipeline='builtin.module(func.func(rns-partition{ranks=2 mode=limbs},rns-plan-memory{rank=2}))' -verify-diagnostics
// A process's plan is for one of the ranks the schedule is split over.

module attributes {ckks.rns = {log_n = 16 : i64}} {
// expected-error @+1 {{rns-plan-memory for rank 2 of a schedule partitioned for 2}}
func.func @rank_out_of_range(%x: !rns.limbs<0 to 3>) -> !rns.limbs<0 to 3> {
  %n = rns.ntt %x : !rns.limbs<0 to 3>
  return %n : !rns.limbs<0 to 3>
}
}

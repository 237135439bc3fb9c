// RUN: cerium-opt %s | cerium-opt | FileCheck %s
// Every rns op parses, verifies and prints back; prime runs print compactly.

// CHECK-LABEL: func @limb_ops
// CHECK-SAME: !rns.limbs<0 to 2>
func.func @limb_ops(%a: !rns.limbs<0, 1, 2>, %b: !rns.limbs<0 to 2>) -> !rns.limbs<3, 0 to 2> {
  // CHECK: rns.kernel(%{{.*}}, %{{.*}}) : (!rns.limbs<0 to 2>, !rns.limbs<0 to 2>) -> (!rns.limbs<0 to 2>, !rns.limbs<0 to 2>)
  // CHECK: rns.mul_int %{{.*}} by 3 : i32
  // CHECK: rns.mul_prod %{{.*}} by [3] : i32
  // CHECK: rns.mul_inv %{{.*}} by [3] : i32
  // CHECK: rns.yield
  %k:2 = rns.kernel(%a, %b) : (!rns.limbs<0 to 2>, !rns.limbs<0 to 2>) -> (!rns.limbs<0 to 2>, !rns.limbs<0 to 2>) {
  ^bb0(%x: i32, %y: i32):
    %0 = rns.mul %x, %y : i32
    %1 = rns.add %0, %x : i32
    %2 = rns.sub %1, %y : i32
    %3 = rns.neg %2 : i32
    %4 = rns.mul_int %3 by 3 : i32
    %m = rns.mul_prod %4 by [3] : i32
    %5 = rns.mul_inv %m by [3] : i32
    rns.yield %4, %5 : i32, i32
  }
  // CHECK: rns.intt %{{.*}} : <0 to 2>
  %c = rns.intt %k#0 : !rns.limbs<0 to 2>
  // CHECK: rns.slice %{{.*}} at 1 : <0 to 2> -> <1 to 2>
  %s = rns.slice %c at 1 : !rns.limbs<0 to 2> -> !rns.limbs<1, 2>
  // CHECK: rns.base_convert %{{.*}} : <1 to 2> -> <3, 0>
  %v = rns.base_convert %s : !rns.limbs<1 to 2> -> !rns.limbs<3, 0>
  // CHECK: rns.ntt
  %n = rns.ntt %v : !rns.limbs<3, 0>
  %head = rns.slice %n at 0 : !rns.limbs<3, 0> -> !rns.limbs<3, 0>
  %tail = rns.slice %k#1 at 1 : !rns.limbs<0 to 2> -> !rns.limbs<1 to 2>
  // CHECK: rns.concat %{{.*}}, %{{.*}} : !rns.limbs<3, 0>, !rns.limbs<1 to 2> -> <3, 0 to 2>
  %e = rns.concat %head, %tail : !rns.limbs<3, 0>, !rns.limbs<1 to 2> -> !rns.limbs<3, 0 to 2>
  // CHECK: rns.key_switch %{{.*}} : !rns.limbs<3, 0 to 2> -> <3, 0 to 2>
  %kb, %ka = rns.key_switch %e : !rns.limbs<3, 0 to 2> -> !rns.limbs<3, 0 to 2>
  // CHECK: rns.automorph %{{.*}} by 9
  %r = rns.automorph %ka by 9 : !rns.limbs<3, 0 to 2>
  // CHECK: rns.encode [5.000000e-01] level 2 degree 1 : <0 to 2>
  %p = rns.encode [0.5] level 2 degree 1 : !rns.limbs<0 to 2>
  // CHECK: rns.encode f32 [5.000000e-01, 2.500000e-01] offset 6 count 6 level 2 degree 1 : <0 to 2>
  %p2 = rns.encode f32 [0.5, 0.25] offset 6 count 6 level 2 degree 1 : !rns.limbs<0 to 2>
  // Values kept in an artifact's constant section, by place.
  // CHECK: rns.encode stored<2 x f32 at 24> offset 6 count 6 level 2 degree 1 : <0 to 2>
  %p3 = rns.encode stored<2 x f32 at 24> offset 6 count 6 level 2 degree 1 : !rns.limbs<0 to 2>
  // CHECK: rns.encode complex stored<4 x f64 at 0> level 2 degree 1 : <0 to 2>
  %p4 = rns.encode complex stored<4 x f64 at 0> level 2 degree 1 : !rns.limbs<0 to 2>
  // CHECK: rns.add %{{.*}}, %{{.*}} : !rns.limbs<0 to 2>
  %q = rns.add %p, %b : !rns.limbs<0 to 2>
  return %r : !rns.limbs<3, 0 to 2>
}

// RUN: cerium-opt %s | cerium-opt | FileCheck %s
// Round trip, and the result types every op infers.

!ct3 = !ckks.ct<level = 3, degree = 1>

// CHECK-LABEL: func @arithmetic
func.func @arithmetic(%a: !ct3, %b: !ct3) -> !ckks.ct<level = 2, degree = 1> {
  // CHECK: ckks.add %{{.*}}, %{{.*}} : <level = 3, degree = 1>, <level = 3, degree = 1>
  %s = ckks.add %a, %b : !ct3, !ct3
  %d = ckks.sub %s, %b : !ct3, !ct3
  %n = ckks.negate %d : !ct3
  // A product has the sum of the degrees and three polynomials.
  // CHECK: %[[P:.*]] = ckks.mul
  // CHECK: ckks.relinearize %[[P]] : <level = 3, degree = 2, size = 3>
  %p = ckks.mul %n, %a : !ct3, !ct3
  %r = ckks.relinearize %p : !ckks.ct<level = 3, degree = 2, size = 3>
  // Rescaling drops a level and a degree.
  // CHECK: ckks.rescale %{{.*}} : <level = 3, degree = 2>
  %q = ckks.rescale %r : !ckks.ct<level = 3, degree = 2>
  return %q : !ckks.ct<level = 2, degree = 1>
}

// CHECK-LABEL: func @lazy_relinearization
func.func @lazy_relinearization(%a: !ct3, %b: !ct3) -> !ckks.ct<level = 3, degree = 2, size = 3> {
  // Sums of unrelinearized products stay size 3.
  %p = ckks.mul %a, %b : !ct3, !ct3
  %q = ckks.mul %b, %b : !ct3, !ct3
  // CHECK: ckks.add %{{.*}}, %{{.*}} : <level = 3, degree = 2, size = 3>, <level = 3, degree = 2, size = 3>
  %s = ckks.add %p, %q : !ckks.ct<level = 3, degree = 2, size = 3>, !ckks.ct<level = 3, degree = 2, size = 3>
  return %s : !ckks.ct<level = 3, degree = 2, size = 3>
}

// CHECK-LABEL: func @plaintexts
func.func @plaintexts(%a: !ct3) -> !ckks.ct<level = 3, degree = 2> {
  // CHECK: ckks.encode [5.000000e-01, -1.000000e+00] : <level = 3, degree = 1>
  %w = ckks.encode [0.5, -1.0] : !ckks.pt<level = 3, degree = 1>
  %c = ckks.encode [2.0] : !ckks.pt<level = 3, degree = 1>
  // Compact storage: f32 values, one period over `count` slots after
  // `offset` zero slots.
  // CHECK: ckks.encode f32 [5.000000e-01, -2.500000e-01] offset 3 count 8 : <level = 3, degree = 1>
  %f = ckks.encode f32 [0.5, -0.25] offset 3 count 8 : !ckks.pt<level = 3, degree = 1>
  // CHECK: ckks.encode f32 [1.000000e+00] offset 2 : <level = 3, degree = 1>
  %g = ckks.encode f32 [1.0] offset 2 : !ckks.pt<level = 3, degree = 1>
  // CHECK: ckks.encode [1.000000e-01] count 4 : <level = 3, degree = 1>
  %h = ckks.encode [0.1] count 4 : !ckks.pt<level = 3, degree = 1>
  %x = ckks.add_plain %a, %c : !ct3, !ckks.pt<level = 3, degree = 1>
  // CHECK: ckks.mul_plain %{{.*}}, %{{.*}} : <level = 3, degree = 1>, <level = 3, degree = 1>
  %y = ckks.mul_plain %x, %w : !ct3, !ckks.pt<level = 3, degree = 1>
  return %y : !ckks.ct<level = 3, degree = 2>
}

// CHECK-LABEL: func @constants
func.func @constants(%a: !ct3) -> !ckks.ct<level = 3, degree = 2> {
  // CHECK: ckks.mul_const %{{.*}} by -2.500000e-01 : <level = 3, degree = 1>
  %y = ckks.mul_const %a by -0.25 : !ct3
  return %y : !ckks.ct<level = 3, degree = 2>
}

// CHECK-LABEL: func @slots
func.func @slots(%a: !ct3) -> !ckks.ct<level = 1, degree = 1> {
  // CHECK: ckks.rotate %{{.*}} by 5 : <level = 3, degree = 1>
  %r = ckks.rotate %a by 5 : !ct3
  %l = ckks.rotate %r by -2 : !ct3
  %c = ckks.conjugate %l : !ct3
  // CHECK: ckks.level_down %{{.*}} to 1 : <level = 3, degree = 1>
  %d = ckks.level_down %c to 1 : !ct3
  return %d : !ckks.ct<level = 1, degree = 1>
}

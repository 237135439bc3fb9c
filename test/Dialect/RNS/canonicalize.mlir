// RUN: cerium-opt %s -canonicalize | FileCheck %s
// Folders: whole-array slices and products by 1 disappear; a slice of a
// slice is one slice of the original.

// CHECK-LABEL: func @folds
// CHECK-SAME: (%[[A:.*]]: !rns.limbs<0 to 4>)
func.func @folds(%a: !rns.limbs<0 to 4>) -> (!rns.limbs<0 to 4>, !rns.limbs<3>) {
  // CHECK: %[[S:.*]] = rns.slice %[[A]] at 3 : <0 to 4> -> <3>
  // CHECK: return %[[A]], %[[S]]
  %0 = rns.slice %a at 0 : !rns.limbs<0 to 4> -> !rns.limbs<0 to 4>
  %1 = rns.mul_int %0 by 1 : !rns.limbs<0 to 4>
  %2 = rns.slice %1 at 2 : !rns.limbs<0 to 4> -> !rns.limbs<2 to 4>
  %3 = rns.slice %2 at 1 : !rns.limbs<2 to 4> -> !rns.limbs<3>
  return %1, %3 : !rns.limbs<0 to 4>, !rns.limbs<3>
}

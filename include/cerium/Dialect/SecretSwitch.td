//===- SecretSwitch.td - Sparse-secret encapsulation keys -*- tablegen -*-===//
//
// Bootstrapping with sparse-secret encapsulation (docs/architecture.md)
// key-switches from the dense secret s to an ephemeral sparse secret s'
// right before ModRaise and back right after. The two switches use their
// own keys; ckks.switch_secret, poly.key_switch and rns.key_switch name
// them with this one enum, so every level of the lowering reads the same
// attribute.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DIALECT_SECRETSWITCH_TD
#define CERIUM_DIALECT_SECRETSWITCH_TD

include "mlir/IR/EnumAttr.td"

def SecretSwitchAttr : I32EnumAttr<"SecretSwitch",
    "the key of a sparse-secret encapsulation switch", [
  // s -> s', over [P, Q_0] only (used at level 0, before ModRaise).
  I32EnumAttrCase<"ToSparse", 0, "to_sparse">,
  // s' -> s, over [P, Q_L] (used right after ModRaise).
  I32EnumAttrCase<"ToDense", 1, "to_dense">
]> {
  let cppNamespace = "::cerium";
}

#endif // CERIUM_DIALECT_SECRETSWITCH_TD

//===- FHEOps.td - The fhe dialect -------------------------*- tablegen -*-===//
//
// Tensor-level programs, as the .fhe front end builds them: encrypted tensors
// (!fhe.cipher<[d0, d1, ...]>), plaintext tensors (builtin tensor<...xf64>)
// and f64 scalars. Result types are written out; verifiers check them with
// the shape rules of cerium/DSL/Shapes.h, the same ones the front end
// reports errors with.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DIALECT_FHE_IR_FHEOPS_TD
#define CERIUM_DIALECT_FHE_IR_FHEOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def FHE_Dialect : Dialect {
  let name = "fhe";
  let cppNamespace = "::cerium::fhe";
  let summary = "Tensor programs over encrypted and plaintext reals";
  let useDefaultTypePrinterParser = 1;
}

def FHE_CipherType : TypeDef<FHE_Dialect, "Cipher"> {
  let mnemonic = "cipher";
  let summary = "an encrypted tensor of reals";
  let parameters = (ins ArrayRefParameter<"int64_t">:$shape);
  let assemblyFormat = "`<` `[` $shape `]` `>`";
  let genVerifyDecl = 1;
}

/// Anything a tensor expression can be: cipher, plain tensor or scalar.
def FHE_Value : AnyTypeOf<[FHE_CipherType, RankedTensorOf<[F64]>, F64]>;
def FHE_Tensor : AnyTypeOf<[FHE_CipherType, RankedTensorOf<[F64]>]>;
def FHE_Plain : RankedTensorOf<[F64]>;
def FHE_Range : ConfinedAttr<DenseF64ArrayAttr, [DenseArrayCount<2>]>;

class FHE_Op<string mnemonic, list<Trait> traits = []>
    : Op<FHE_Dialect, mnemonic, !listconcat(traits, [Pure])> {
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Leaves
//===----------------------------------------------------------------------===//

def FHE_WeightOp : FHE_Op<"weight"> {
  let summary = "a named tensor of a safetensors file (server-side plaintext)";
  let arguments = (ins StrAttr:$file, StrAttr:$name);
  let results = (outs FHE_Plain:$result);
  let assemblyFormat = "$file `[` $name `]` attr-dict `:` type($result)";
}

def FHE_ConstantOp : FHE_Op<"constant"> {
  let summary = "a literal plaintext tensor";
  let arguments = (ins DenseF64ArrayAttr:$values);
  let results = (outs FHE_Plain:$result);
  let assemblyFormat = "$values attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Elementwise (NumPy broadcasting; cipher if any operand is)
//===----------------------------------------------------------------------===//

class FHE_BinaryOp<string mnemonic> : FHE_Op<mnemonic> {
  let arguments = (ins FHE_Value:$lhs, FHE_Value:$rhs);
  let results = (outs FHE_Value:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` `(` type($lhs) `,` type($rhs) `)` `->` type($result)
  }];
}
def FHE_AddOp : FHE_BinaryOp<"add">;
def FHE_SubOp : FHE_BinaryOp<"sub">;
def FHE_MulOp : FHE_BinaryOp<"mul">;
def FHE_DivOp : FHE_BinaryOp<"div"> {
  let summary = "division by a plaintext or scalar divisor";
}
def FHE_MatMulOp : FHE_BinaryOp<"matmul">;

def FHE_NegOp : FHE_Op<"neg"> {
  let arguments = (ins FHE_Value:$input);
  let results = (outs FHE_Value:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Layout
//===----------------------------------------------------------------------===//

class FHE_UnaryOp<string mnemonic, dag attrs> : FHE_Op<mnemonic> {
  let arguments = !con((ins FHE_Tensor:$input), attrs);
  let results = (outs FHE_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}
def FHE_TransposeOp : FHE_UnaryOp<"transpose", (ins DenseI64ArrayAttr:$perm)>;
def FHE_ReshapeOp : FHE_UnaryOp<"reshape", (ins DenseI64ArrayAttr:$shape)>;
def FHE_IndexOp : FHE_UnaryOp<"index", (ins I64Attr:$index)>;
def FHE_SliceOp : FHE_UnaryOp<"slice", (ins I64Attr:$lo, I64Attr:$hi)>;
def FHE_RollOp : FHE_UnaryOp<"roll", (ins I64Attr:$shift, I64Attr:$axis)>;
def FHE_SumOp : FHE_UnaryOp<"sum", (ins OptionalAttr<I64Attr>:$axis)>;
def FHE_MeanOp : FHE_UnaryOp<"mean", (ins OptionalAttr<I64Attr>:$axis)>;
def FHE_GlobalAvgPoolOp : FHE_UnaryOp<"global_avgpool", (ins)>;
def FHE_AvgPool2dOp
    : FHE_UnaryOp<"avgpool2d", (ins I64Attr:$kernel, I64Attr:$stride)>;
def FHE_BootstrapOp : FHE_UnaryOp<"bootstrap", (ins)>;

def FHE_ConcatOp : FHE_Op<"concat"> {
  let arguments = (ins Variadic<FHE_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs FHE_Tensor:$result);
  let assemblyFormat = [{
    $inputs attr-dict `:` `(` type($inputs) `)` `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

def FHE_LinearOp : FHE_Op<"linear"> {
  let summary = "x @ W.T + b";
  let arguments = (ins FHE_Tensor:$input, FHE_Plain:$weight,
                       Optional<FHE_Plain>:$bias);
  let results = (outs FHE_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,`
    type($weight) (`,` type($bias)^)? `->` type($result)
  }];
}

def FHE_Conv2dOp : FHE_Op<"conv2d"> {
  let arguments = (ins FHE_Tensor:$input, FHE_Plain:$weight,
                       Optional<FHE_Plain>:$bias, I64Attr:$stride,
                       I64Attr:$padding, I64Attr:$groups);
  let results = (outs FHE_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,`
    type($weight) (`,` type($bias)^)? `->` type($result)
  }];
}

def FHE_BatchNormOp : FHE_Op<"batchnorm"> {
  let arguments = (ins FHE_Tensor:$input, FHE_Plain:$gamma, FHE_Plain:$beta,
                       FHE_Plain:$mean, FHE_Plain:$variance, F64Attr:$eps);
  let results = (outs FHE_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $gamma `,` $beta `,` $mean `,` $variance attr-dict `:`
    type($input) `,` type($gamma) `,` type($beta) `,` type($mean) `,`
    type($variance) `->` type($result)
  }];
}

/// layernorm (with beta) and rmsnorm (without) over the last axis.
def FHE_NormOp : FHE_Op<"norm"> {
  let arguments = (ins FHE_Tensor:$input, FHE_Plain:$gamma,
                       Optional<FHE_Plain>:$beta, StrAttr:$kind, F64Attr:$eps,
                       FHE_Range:$range);
  let results = (outs FHE_Tensor:$result);
  let assemblyFormat = [{
    $kind $input `,` $gamma (`,` $beta^)? attr-dict `:` type($input) `,`
    type($gamma) (`,` type($beta)^)? `->` type($result)
  }];
}

def FHE_SoftmaxOp : FHE_UnaryOp<"softmax", (ins I64Attr:$axis, FHE_Range:$range)>;

//===----------------------------------------------------------------------===//
// Nonlinear functions (approximated by polynomials on `range`)
//===----------------------------------------------------------------------===//

def FHE_NonlinearOp : FHE_UnaryOp<"nonlinear", (ins StrAttr:$function,
                                                    FHE_Range:$range)> {
  let summary = "relu, gelu, silu, sigmoid, tanh, exp, log, inv, sqrt, "
                "inv_sqrt, square or sign on inputs in `range`";
}

def FHE_MaxMinOp : FHE_Op<"maxmin"> {
  let summary = "elementwise max (is_max) or min of two tensors in `range`";
  let arguments = (ins FHE_Value:$lhs, FHE_Value:$rhs, BoolAttr:$is_max,
                       FHE_Range:$range);
  let results = (outs FHE_Value:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` `(` type($lhs) `,` type($rhs) `)` `->` type($result)
  }];
}

def FHE_PolyOp : FHE_UnaryOp<"poly", (ins DenseF64ArrayAttr:$coefficients,
                                          StrAttr:$basis, FHE_Range:$range)> {
  let summary = "an explicit polynomial in the power or Chebyshev basis";
}

#endif // CERIUM_DIALECT_FHE_IR_FHEOPS_TD

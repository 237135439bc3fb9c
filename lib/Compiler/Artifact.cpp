//===- Artifact.cpp - The .cerium artifact --------------------------------===//

#include "cerium/Compiler/Artifact.h"
#include "cerium/Conversion/FHEToCKKS.h"
#include "cerium/DSL/Safetensors.h"
#include "cerium/Dialect/FHE/IR/FHEDialect.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Support/Container.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/Builders.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

namespace cerium {

namespace {

// A tensor's flags. One without a layout reads exactly as before layouts
// existed (the byte was 0 or 1).
constexpr uint8_t kHasRange = 1, kHasLayout = 2;

void putTensors(ByteWriter &w, const std::vector<dsl::TensorInfo> &ts) {
  w.put<uint32_t>(static_cast<uint32_t>(ts.size()));
  for (const auto &t : ts) {
    w.putString(t.name);
    w.putArray<int64_t>(t.shape);
    w.put<uint8_t>(t.cipher ? 1 : 0);
    w.put<uint8_t>((t.range ? kHasRange : 0) |
                   (t.layout.empty() ? 0 : kHasLayout));
    if (t.range) {
      w.put<double>(t.range->first);
      w.put<double>(t.range->second);
    }
    if (!t.layout.empty())
      w.putArray<int64_t>(t.layout);
  }
}

/// Every tensor fits kMaxCiphertextsPerTensor ciphertexts of `slots` slots
/// (the lowering packs it so): checked here, so that no client sizes a
/// buffer by a shape that only a damaged or crafted file could hold.
std::vector<dsl::TensorInfo> getTensors(ByteReader &r, size_t slots) {
  uint32_t n = r.get<uint32_t>();
  if (n > 4096)
    r.fail("too many tensors");
  std::vector<dsl::TensorInfo> ts;
  for (uint32_t i = 0; i < n; ++i) {
    dsl::TensorInfo t;
    t.name = r.getString();
    t.shape = r.getArray<int64_t>(16);
    t.cipher = r.get<uint8_t>() != 0;
    const uint8_t flags = r.get<uint8_t>();
    if (flags & ~(kHasRange | kHasLayout))
      r.fail("tensor '" + t.name + "' has unknown flags");
    if (flags & kHasRange) {
      double lo = r.get<double>(), hi = r.get<double>();
      if (!(lo < hi) || !std::isfinite(lo) || !std::isfinite(hi))
        r.fail("tensor '" + t.name + "' has an invalid declared range");
      t.range = {lo, hi};
    }
    if (flags & kHasLayout) {
      t.layout = r.getArray<int64_t>(16);
      if (t.layout.size() != t.shape.size())
        r.fail("tensor '" + t.name + "' has a layout of another rank");
    }
    const std::vector<int64_t> &extents = t.layout.empty() ? t.shape : t.layout;
    const uint64_t capacity = uint64_t(kMaxCiphertextsPerTensor) * slots;
    uint64_t count = 1;
    for (size_t k = 0; k < extents.size(); ++k) {
      const int64_t d = extents[k];
      if (d < 1 || uint64_t(d) > capacity / count || d < t.shape[k] ||
          t.shape[k] < 1)
        r.fail("tensor '" + t.name + "' has a shape that does not fit " +
               std::to_string(kMaxCiphertextsPerTensor) + " ciphertexts of " +
               std::to_string(slots) + " slots");
      count *= uint64_t(d);
    }
    ts.push_back(std::move(t));
  }
  return ts;
}

// The flags of the evaluation keys the program needs. An artifact without
// encapsulation reads exactly as before that existed (the byte was 0 or 1).
constexpr uint8_t kNeedsRelin = 1, kNeedsEncapsulation = 2;

/// The program's identity: its parameters, both lowered modules and its
/// constants (not the generated CUDA, which --target adds or leaves out for
/// the same program).
uint64_t programFingerprint(const ckks::Params &params,
                            std::span<const uint8_t> program,
                            std::span<const uint8_t> reference,
                            uint64_t constantsHash) {
  return hashBytes(program,
                   hashBytes(reference, params.fingerprint() ^ constantsHash));
}

std::span<const uint8_t> bytesOf(const std::string &s) {
  return {reinterpret_cast<const uint8_t *>(s.data()), s.size()};
}

/// Moves the stored values of `program`'s plaintext constants into a
/// section (each at an 8-byte aligned offset, one copy per distinct
/// values attribute) and makes each encode name its place (#rns.stored).
std::vector<uint8_t> moveConstantsOut(mlir::ModuleOp program) {
  std::vector<uint8_t> section;
  llvm::DenseMap<mlir::Attribute, mlir::Attribute> placed;
  program.walk([&](rns::EncodeOp e) {
    // A run-time plaintext's indices are bound in the program
    // (bindPlainInputs).
    if (e.getInput() || mlir::isa<rns::StoredValuesAttr>(e.getValues()))
      return;
    auto [at, fresh] = placed.try_emplace(e.getValues());
    if (fresh) {
      const SlotValueData values = slotValueData(e.getValues());
      const size_t offset = (section.size() + 7) / 8 * 8;
      section.resize(offset + values.bytes(), 0);
      std::memcpy(section.data() + offset, values.data, values.bytes());
      at->second = rns::StoredValuesAttr::get(e.getContext(), offset,
                                              values.count, values.f32);
    }
    e.setValuesAttr(at->second);
  });
  return section;
}

std::string bytecodeOf(mlir::ModuleOp module) {
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  if (mlir::failed(mlir::writeBytecodeToFile(module, os)))
    throw Error("internal error: cannot serialize a module");
  os.flush();
  return bytes;
}

mlir::OwningOpRef<mlir::ModuleOp> parseModule(std::span<const uint8_t> bytes,
                                              mlir::MLIRContext &context,
                                              const std::string &path) {
  mlir::ParserConfig config(&context);
  // MLIR's bytecode reader trusts some counts it reads: a crafted program
  // (the checksum is no signature) can make it ask for 2^60 elements, and
  // LLVM then aborts with "LLVM ERROR: ...". Nothing can continue after a
  // fatal error, but it can end like every other bad file: one line naming
  // the file and a failed exit. (Outputs are written atomically, so none is
  // left half-written.)
  llvm::ScopedFatalErrorHandler fatal(
      [](void *file, const char *reason, bool) {
        std::fprintf(stderr,
                     "error: %s: malformed artifact: the program does not "
                     "parse (%s)\n",
                     static_cast<const std::string *>(file)->c_str(), reason);
        std::_Exit(1);
      },
      const_cast<std::string *>(&path));
  auto module = mlir::parseSourceString<mlir::ModuleOp>(
      llvm::StringRef(reinterpret_cast<const char *>(bytes.data()),
                      bytes.size()),
      config);
  if (!module)
    throw Error(path + ": malformed artifact: the program does not parse");
  return module;
}

} // namespace

Artifact makeArtifact(Compilation &lowered) {
  mlir::OwningOpRef<mlir::ModuleOp> fheSource = std::move(lowered.fheModule);
  Artifact a;
  a.params = lowered.params;
  a.inputs = lowered.program.inputs;
  a.outputs = lowered.program.outputs;
  a.precision = lowered.program.options.precision;
  a.keys = runtime::requiredKeys(lowered.main());
  // Fold the weights into the reference program: the artifact is then
  // self-contained.
  fheSource->walk([&](fhe::WeightOp w) {
    auto file = dsl::SafetensorsFile::open(w.getFile().str());
    std::vector<double> values = file->read(w.getName().str());
    mlir::OpBuilder b(w);
    auto c = fhe::ConstantOp::create(b, w.getLoc(), w.getType(),
                                     b.getDenseF64ArrayAttr(values));
    w.getResult().replaceAllUsesWith(c.getResult());
    w.erase();
  });
  a.program = std::move(lowered.program.module);
  a.reference = std::move(fheSource);
  return a;
}

void writeArtifact(const std::string &path, Artifact &a) {
  // Its encodes name places in the file it came from (and its reference
  // may not be parsed): it is that file.
  if (a.file)
    throw Error("internal error: an artifact read from a file is written "
                "again");
  ByteWriter w;
  a.params->serialize(w);
  putTensors(w, a.inputs);
  putTensors(w, a.outputs);
  w.put<double>(a.precision);
  w.put<uint8_t>((a.keys.relinearization ? kNeedsRelin : 0) |
                 (a.keys.encapsulation ? kNeedsEncapsulation : 0));
  // Each Galois element, then the level its key is needed at.
  std::vector<uint32_t> galois;
  for (auto [g, level] : a.keys.galois) {
    galois.push_back(g);
    galois.push_back(level);
  }
  w.putArray<uint32_t>(galois);
  // The constants leave a copy of the program; the artifact's own keeps
  // them inline (it may still be run or inspected in this process).
  mlir::OwningOpRef<mlir::ModuleOp> stored = a.program->clone();
  const std::vector<uint8_t> constants = moveConstantsOut(*stored);
  const uint64_t constantsHash = hashBytes(constants);
  std::string program = bytecodeOf(*stored);
  std::string reference = bytecodeOf(*a.reference);
  a.fingerprint = programFingerprint(*a.params, bytesOf(program),
                                     bytesOf(reference), constantsHash);
  w.putString(program);
  w.putString(reference);
  w.putString(a.cudaSource);
  w.putArray<uint8_t>(a.cudaImage);
  w.put<uint64_t>(constantsHash);
  w.put<uint64_t>(constants.size());
  w.align(8);
  w.buffer().insert(w.buffer().end(), constants.begin(), constants.end());
  writeContainer(path, FileKind::Artifact, a.params->fingerprint(), w.buffer());
}

ArtifactBytes::~ArtifactBytes() = default;

mlir::func::FuncOp Artifact::referenceMain() {
  if (!reference) {
    if (!context)
      throw Error("internal error: an artifact without its reference program");
    reference = parseModule(referenceBytes, *context, path);
  }
  auto main = reference->lookupSymbol<mlir::func::FuncOp>("main");
  if (!main)
    throw Error(path + ": malformed contents: no main function in the "
                       "reference program");
  return main;
}

Artifact readArtifact(const std::string &path, mlir::MLIRContext &context) {
  loadCompilerDialects(context);
  auto file = std::make_shared<ArtifactBytes>();
  uint64_t paramsFingerprint = 0;
  file->mapped = MappedContainer::open(path, FileKind::Artifact);
  if (file->mapped) {
    file->payload = file->mapped->payload;
    paramsFingerprint = file->mapped->fingerprint;
  } else {
    Container c = readContainer(path, FileKind::Artifact);
    file->copy = std::move(c.payload);
    file->payload = file->copy;
    paramsFingerprint = c.fingerprint;
  }
  ByteReader r(file->payload, path);
  Artifact a;
  a.path = path;
  a.context = &context;
  try {
    a.params = ckks::Params::deserialize(r);
  } catch (const Error &e) {
    throw Error(path + ": " + e.what());
  }
  if (a.params->fingerprint() != paramsFingerprint)
    r.fail("parameter fingerprint mismatch");
  a.inputs = getTensors(r, a.params->slots());
  a.outputs = getTensors(r, a.params->slots());
  a.precision = r.get<double>();
  const uint8_t needs = r.get<uint8_t>();
  if (needs & ~(kNeedsRelin | kNeedsEncapsulation))
    r.fail("unknown evaluation key requirements");
  a.keys.relinearization = needs & kNeedsRelin;
  a.keys.encapsulation = needs & kNeedsEncapsulation;
  // Keygen could not make the keys such a program switches with.
  if (a.keys.encapsulation && !a.params->spec().encapsulationWeight)
    r.fail("the program switches to a sparse secret but its parameter set "
           "has no encapsulation weight");
  std::vector<uint32_t> galois = r.getArray<uint32_t>(1 << 21);
  if (galois.size() % 2)
    r.fail("Galois keys without their levels");
  for (size_t i = 0; i < galois.size(); i += 2) {
    const uint32_t g = galois[i], level = galois[i + 1];
    if ((g & 1) == 0 || g >= 2 * a.params->degree())
      r.fail("invalid Galois element " + std::to_string(g));
    if (level > a.params->maxLevel())
      r.fail("Galois key level " + std::to_string(level) +
             " beyond the parameters' chain");
    if (!a.keys.galois.emplace(g, level).second)
      r.fail("Galois element " + std::to_string(g) + " listed twice");
  }
  std::span<const uint8_t> program = r.getBytesInPlace(r.get<uint64_t>());
  a.referenceBytes = r.getBytesInPlace(r.get<uint64_t>());
  a.program = parseModule(program, context, path);
  a.cudaSource = r.getString();
  a.cudaImage = r.getArray<uint8_t>();
  const uint64_t constantsHash = r.get<uint64_t>();
  const uint64_t constantsSize = r.get<uint64_t>();
  r.align(8);
  a.constants = r.getBytesInPlace(constantsSize);
  r.expectEnd();
  a.fingerprint =
      programFingerprint(*a.params, program, a.referenceBytes, constantsHash);
  a.file = std::move(file);
  if (!a.main())
    r.fail("no main function");
  if (!a.main()->hasAttr("rns.arena_limbs"))
    r.fail("the program is not a planned rns schedule (recompile it with "
           "this cerium-cc)");
  // The runtime reads each constant where its encode says, unchecked, and
  // streams them by place: one place, one constant.
  std::map<uint64_t, mlir::Attribute> places;
  a.program->walk([&](rns::EncodeOp e) {
    auto stored = mlir::dyn_cast<rns::StoredValuesAttr>(e.getValues());
    if (!stored)
      return;
    if (places.try_emplace(stored.getOffset(), stored).first->second != stored)
      r.fail("two plaintext constants of different sizes at one place");
    if (stored.getOffset() % 8 ||
        stored.getCount() > a.constants.size() / (stored.getF32() ? 4 : 8) ||
        stored.getOffset() > a.constants.size() - stored.getBytes())
      r.fail("a plaintext constant lies outside the constant section");
  });
  // The keys listed are the keys keygen makes: the schedule may switch with
  // no other, nor at a higher level than listed (it would fail mid-run).
  runtime::KeyRequirements used;
  try {
    used = runtime::requiredKeys(a.main());
  } catch (const Error &e) {
    r.fail(e.what());
  }
  if ((used.relinearization && !a.keys.relinearization) ||
      (used.encapsulation && !a.keys.encapsulation))
    r.fail("the program switches with keys its key list does not name");
  for (auto [g, level] : used.galois) {
    auto listed = a.keys.galois.find(g);
    if (listed == a.keys.galois.end() || listed->second < level)
      r.fail("the program rotates by Galois element " + std::to_string(g) +
             " at level " + std::to_string(level) +
             ", which its key list does not cover");
  }
  if (a.params->insecure())
    std::fprintf(stderr,
                 "warning: %s uses INSECURE parameters (below "
                 "128-bit security), for testing only\n",
                 path.c_str());
  return a;
}

} // namespace cerium

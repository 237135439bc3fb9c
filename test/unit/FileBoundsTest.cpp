//===- FileBoundsTest.cpp - Readers size nothing by a number in the file --===//
//
// Each reader gets a file whose checksums are right but whose header or
// length fields claim far more than the file holds (2^60 bytes, 2^40
// elements). Every one must answer with one line naming the file, without
// trying the allocation: under AddressSanitizer (CI's sanitizer build) an
// attempt to allocate 2^60 bytes would itself fail the test.
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/CKKS/Serialization.h"
#include "cerium/Compiler/Artifact.h"
#include "cerium/Conversion/FHEToCKKS.h"
#include "cerium/DSL/Safetensors.h"
#include "cerium/Support/Container.h"
#include "cerium/kernels/CpuBackend.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace cerium;
using namespace cerium::ckks;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t k2to60 = uint64_t(1) << 60;

class FileBounds : public test::FileTest {
protected:
  FileBounds() : FileTest("cerium-bounds-") {}
  void SetUp() override {
    FileTest::SetUp();
    ParamSpec spec;
    spec.logN = 10;
    spec.levels = 1;
    spec.scaleBits = 30;
    spec.baseBits = 30;
    spec.dnum = 1;
    spec.insecure = true;
    params = Params::create(spec);
  }

  /// The first 8-byte field of `file`'s payload holding `value` becomes
  /// `replacement`; the container is rewritten with a correct checksum.
  void patchLength(const std::string &file, FileKind kind, uint64_t value,
                   uint64_t replacement) {
    Container c = readContainer(file, kind);
    for (size_t at = 0; at + 8 <= c.payload.size(); ++at) {
      uint64_t v;
      std::memcpy(&v, c.payload.data() + at, 8);
      if (v == value) {
        std::memcpy(c.payload.data() + at, &replacement, 8);
        writeContainer(file, kind, c.fingerprint, c.payload);
        return;
      }
    }
    FAIL() << "no field holding " << value;
  }

  static void expectOneLine(const std::string &error, const std::string &file,
                            const std::string &needle) {
    SCOPED_TRACE(error);
    EXPECT_EQ(error.rfind(file + ": ", 0), 0u);
    EXPECT_NE(error.find(needle), std::string::npos);
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }

  ParamsPtr params;
};

TEST_F(FileBounds, ContainerLengthFieldIsComparedNotTrusted) {
  std::string p = path("x.ct");
  saveCiphertexts(p, *params, {});
  auto bytes = readAll(p);
  std::memcpy(bytes.data() + 24, &k2to60, 8); // the payload length field
  writeAll(p, bytes);
  expectOneLine(errorOf([&] { readContainer(p, FileKind::Ciphertexts); }), p,
                "truncated ciphertext file (the header announces "
                "1152921504606846976 payload bytes");
}

TEST(ByteReaderBounds, ArrayLengthsAreCheckedBeforeAllocating) {
  ByteWriter w;
  w.put<uint64_t>(k2to60);
  w.put<uint32_t>(7);
  auto bytes = w.buffer();
  auto error = [&](auto read) {
    ByteReader r(bytes, "f");
    try {
      read(r);
    } catch (const Error &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error([](ByteReader &r) { r.getArray<uint32_t>(); }),
            "f: malformed contents: array length out of range");
  EXPECT_EQ(error([](ByteReader &r) { r.getArray<uint8_t>(); }),
            "f: malformed contents: array length out of range");
  EXPECT_EQ(error([](ByteReader &r) { r.getArrayExact<uint32_t>(1, "size"); }),
            "f: malformed contents: size");
  EXPECT_EQ(
      error([](ByteReader &r) { r.getArrayExact<uint32_t>(k2to60, "size"); }),
      "f: malformed contents: array length out of range");
}

TEST_F(FileBounds, KeyAndCiphertextArraysClaimingTooMuch) {
  CERIUM_SEEDED_PRNG(prng);
  auto backend = kernels::createCpuBackend(params->rns());
  KeyGenerator keygen(params, *backend, prng);
  SecretKey sk = keygen.secretKey();
  PublicKey pk = keygen.publicKey(sk);
  const uint64_t n = params->degree();
  const uint64_t q = params->qCount(params->maxLevel());

  std::string s = path("secret.key");
  saveSecretKey(s, *params, sk);
  patchLength(s, FileKind::SecretKey, n, k2to60);
  expectOneLine(errorOf([&] { loadSecretKey(s, *params); }), s,
                "secret key has the wrong ring dimension");

  std::string p = path("public.key");
  savePublicKey(p, *params, pk);
  patchLength(p, FileKind::PublicKey, 2 * q * n, k2to60);
  expectOneLine(errorOf([&] { loadPublicKey(p, *params); }), p,
                "polynomial size does not match its level");

  std::string e = path("eval.keys");
  saveEvalKeys(e, *params, keygen.evalKeys(sk, true, std::vector<uint32_t>{}));
  const uint64_t ext = params->extendedPrimeIds(params->maxLevel()).size();
  // A digit is stored as its b half (a comes from the key's seed).
  patchLength(e, FileKind::EvalKeys, ext * n, k2to60);
  expectOneLine(errorOf([&] { loadEvalKeys(e, *params); }), e,
                "switching key digit has the wrong size");

  // A Galois key's level (after its element) past the chain's top is
  // refused before anything is sized by it.
  std::string gl = path("galois.keys");
  const uint32_t g3 = galoisForRotation(*params, 3);
  saveEvalKeys(gl, *params, keygen.evalKeys(sk, false, GaloisLevels{{g3, 0}}));
  patchLength(gl, FileKind::EvalKeys, g3, uint64_t(g3) | (uint64_t(7) << 32));
  expectOneLine(errorOf([&] { loadEvalKeys(gl, *params); }), gl,
                "Galois key level beyond the parameters' chain");

  std::string c = path("x.ct");
  Encoder enc(params);
  Encryptor encryptor(params, *backend);
  std::vector<double> z{0.5};
  saveCiphertexts(
      c, *params,
      {encryptor.encrypt(enc.encode(z, params->levelScale(1), 1, *backend), pk,
                         prng)});
  patchLength(c, FileKind::Ciphertexts, 2 * q * n, k2to60);
  expectOneLine(errorOf([&] { loadCiphertexts(c, *params); }), c,
                "polynomial size does not match its level");
}

TEST_F(FileBounds, ArtifactShapesMustFitTheSlots) {
  // Written by writeArtifact itself (empty modules: the reader stops at the
  // shapes or the Galois elements, before the programs).
  mlir::MLIRContext context;
  auto artifact = [&](const std::vector<int64_t> &shape,
                      ckks::GaloisLevels galois) {
    Artifact a;
    a.params = params;
    dsl::TensorInfo x;
    x.name = "x";
    x.shape = shape;
    a.inputs.push_back(x);
    a.keys.galois = std::move(galois);
    a.program = mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
    a.reference = mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
    std::string p = path("a.cerium");
    writeArtifact(p, a);
    return std::make_pair(p, errorOf([&] { readArtifact(p, context); }));
  };
  const std::string slots = std::to_string(params->slots());
  for (auto shape : std::vector<std::vector<int64_t>>{
           {int64_t(1) << 40},
           {int64_t(1) << 40, int64_t(1) << 40},
           {int64_t(1) << 62, 4},
           {0},
           {-1},
           {int64_t(params->slots()) * kMaxCiphertextsPerTensor + 1}}) {
    auto [p, error] = artifact(shape, {});
    expectOneLine(error, p,
                  "tensor 'x' has a shape that does not fit " +
                      std::to_string(kMaxCiphertextsPerTensor) +
                      " ciphertexts of " + slots + " slots");
  }
  auto [p, error] = artifact({4}, {{2, 0}});
  expectOneLine(error, p, "invalid Galois element 2");
  const unsigned beyond = params->maxLevel() + 1;
  auto [p2, error2] = artifact({4}, {{3, beyond}});
  expectOneLine(error2, p2,
                "Galois key level " + std::to_string(beyond) +
                    " beyond the parameters' chain");
}

// An encode names its values by place in the constant section, which the
// runtime reads unchecked: the reader refuses a place outside it (or not
// 8-byte aligned), however the numbers were made to overflow, and two
// constants of different sizes at one place.
TEST_F(FileBounds, ArtifactConstantsMustLieInTheSection) {
  mlir::MLIRContext context;
  loadCompilerDialects(context);
  // Each value encoded by one rns.encode (inline values are moved to the
  // section when the artifact is written).
  auto artifact = [&](const std::vector<std::string> &values) {
    std::string body;
    for (size_t i = 0; i < values.size(); ++i)
      body += "  %" + std::to_string(i) + " = rns.encode " + values[i] +
              " level 0 degree 1 : !rns.limbs<0>\n";
    Artifact a;
    a.params = params;
    a.program = mlir::parseSourceString<mlir::ModuleOp>(
        "func.func @main() attributes {rns.arena_limbs = 1 : i64} {\n" + body +
            "  return\n}\n",
        mlir::ParserConfig(&context));
    a.reference = mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
    std::string p = path("c.cerium");
    writeArtifact(p, a);
    return std::make_pair(p, errorOf([&] { readArtifact(p, context); }));
  };
  for (const char *stored :
       {"stored<1 x f64 at 0>", "stored<2 x f32 at 8>", "stored<1 x f64 at 4>",
        "stored<2305843009213693952 x f64 at 0>",
        "stored<1 x f64 at 18446744073709551608>"}) {
    auto [p, error] = artifact({stored});
    expectOneLine(error, p,
                  "a plaintext constant lies outside the constant section");
  }
  // Constants are streamed by place: two of different sizes at one place
  // (the moved [1.0] is 1 x f64 at 0) would read past the one read there.
  auto [p, error] = artifact({"[1.0]", "stored<2 x f32 at 0>"});
  expectOneLine(error, p,
                "two plaintext constants of different sizes at one place");
  // The same constant twice is fine (the reader goes on to the schedule,
  // which this one lacks).
  EXPECT_EQ(artifact({"[1.0]", "stored<1 x f64 at 0>"})
                .second.find("plaintext constant"),
            std::string::npos);
}

TEST_F(FileBounds, SafetensorsSizesAreBoundedByTheFile) {
  auto file = [&](const std::string &header, size_t dataBytes,
                  uint64_t headerBytes = 0) {
    std::string p = path("w.safetensors");
    std::vector<uint8_t> b(8);
    uint64_t len = headerBytes ? headerBytes : header.size();
    std::memcpy(b.data(), &len, 8);
    b.insert(b.end(), header.begin(), header.end());
    b.resize(b.size() + dataBytes);
    writeAll(p, b);
    return std::make_pair(p, errorOf([&] { dsl::SafetensorsFile::open(p); }));
  };
  {
    auto [p, e] = file("{}", 0, k2to60);
    expectOneLine(e, p,
                  "header length 1152921504606846976 exceeds the file "
                  "size");
  }
  {
    // 2^62 F32 elements are 2^64 bytes: a count that wraps to 0 bytes must
    // not match the empty range [0, 0].
    auto [p, e] =
        file(R"({"t": {"dtype": "F32", "shape": [4611686018427387904], )"
             R"("data_offsets": [0, 0]}})",
             0);
    expectOneLine(e, p, "data offsets do not match its shape");
  }
  {
    auto [p, e] = file(R"({"t": {"dtype": "F64", "shape": [1099511627776, )"
                       R"(1099511627776], "data_offsets": [0, 8]}})",
                       8);
    expectOneLine(e, p, "has more elements than 2^63");
  }
  {
    auto [p, e] = file(R"({"t": {"dtype": "F64", "shape": [1e300], )"
                       R"("data_offsets": [0, 8]}})",
                       8);
    expectOneLine(e, p, "shape must be a list of integers");
  }
  {
    auto [p, e] = file(R"({"t": {"dtype": "F64", "shape": [1], )"
                       R"("data_offsets": [-8, 0]}})",
                       8);
    expectOneLine(e, p, "data_offsets must be 2 non-negative integers");
  }
  {
    auto [p, e] = file(R"({"t": {"dtype": "F64", "shape": [1099511627776], )"
                       R"("data_offsets": [0, 8796093022208]}})",
                       8);
    expectOneLine(e, p, "lie past the end of the file");
  }
}

} // namespace

TEST_F(FileBounds, DevicesAreNeitherInputsNorOutputs) {
  // /dev/zero never ends: read, it grew without bound.
  expectOneLine(errorOf([] { readFileBytes("/dev/zero"); }), "/dev/zero",
                "not a regular file or a pipe");
  // The rename of an output replaced whatever was there (-o /dev/full made
  // it a regular file). A FIFO stands in for a device here.
  const std::string fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::vector<uint8_t> bytes{1, 2, 3};
  expectOneLine(errorOf([&] { writeFileAtomically(fifo, bytes); }), fifo,
                "not a regular file");
  struct stat st;
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

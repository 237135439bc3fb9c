//===- GeneratedKernelsTest.cpp - The CUDA target without a GPU -----------===//
//
// What `cerium-cc --target cuda` produces can be checked without a GPU:
// every rns.kernel gets a generated kernel, NVRTC (the load-time path) and
// nvcc (the compile-time path) both compile the source, and the artifact
// keeps source and fatbin. Runs in CI (label e2e).
//
//===----------------------------------------------------------------------===//

#include "../unit/TestSupport.h"

#include "cerium/Compiler/Artifact.h"
#include "cerium/Compiler/CudaTarget.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Runtime/Schedule.h"
#include "cerium/kernels/Nvrtc.h"

#include "mlir/IR/MLIRContext.h"

#include <filesystem>

using namespace cerium;

namespace {

Compilation compileProgram(mlir::MLIRContext &context,
                           const std::string &name) {
  CompileOptions options;
  options.insecure = true;
  return compile(dsl::SourceFile::read(std::string(CERIUM_E2E_PROGRAMS_DIR) +
                                       "/" + name + ".fhe"),
                 context, options);
}

TEST(GeneratedKernels, EveryKernelIsNamedAndDefined) {
  mlir::MLIRContext context;
  Compilation c = compileProgram(context, "mlp");
  std::string source = runtime::generateCudaKernels(c.main(), *c.params);
  size_t kernels = 0;
  c.main().walk([&](rns::KernelOp k) {
    auto name = k->getAttrOfType<mlir::StringAttr>("rns.kernel_name");
    ASSERT_TRUE(name) << "an rns.kernel without a generated kernel";
    EXPECT_NE(source.find("__global__ void " + name.str() + "("),
              std::string::npos)
        << name.str() << " is not defined";
    // The executor hands the name to the backend with the program.
    EXPECT_EQ(runtime::compileKernel(k, *c.params).kernelName, name.str());
    ++kernels;
  });
  EXPECT_GT(kernels, 0u);
}

TEST(GeneratedKernels, NvrtcCompilesThemForEachArchitecture) {
  mlir::MLIRContext context;
  Compilation c = compileProgram(context, "poly_cheb15");
  std::string source = runtime::generateCudaKernels(c.main(), *c.params);
  for (unsigned arch : kCudaArchitectures) {
    std::string ptx =
        kernels::compileToPtx(source, int(arch / 10), int(arch % 10));
    EXPECT_NE(ptx.find(".entry cerium_kernel_0"), std::string::npos)
        << "sm_" << arch;
  }
}

TEST(GeneratedKernels, ArtifactKeepsSourceAndFatbin) {
  std::string nvcc = findNvcc();
  if (nvcc.empty())
    GTEST_SKIP() << "no nvcc on this machine";
  mlir::MLIRContext context;
  Compilation c = compileProgram(context, "product3");
  std::string source = runtime::generateCudaKernels(c.main(), *c.params);
  std::vector<uint8_t> image = compileFatbin(source, nvcc, kCudaArchitectures);
  EXPECT_GT(image.size(), 1000u);
  Artifact a = makeArtifact(c);
  a.cudaSource = source;
  a.cudaImage = image;
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("cerium-gen-" + std::to_string(getpid()) + ".cerium"))
          .string();
  writeArtifact(path, a);
  mlir::MLIRContext other;
  Artifact back = readArtifact(path, other);
  std::filesystem::remove(path);
  EXPECT_EQ(back.cudaSource, source);
  EXPECT_EQ(back.cudaImage, image);
  // The names survive in the planned program the artifact carries.
  size_t named = 0;
  back.main().walk(
      [&](rns::KernelOp k) { named += k->hasAttr("rns.kernel_name"); });
  EXPECT_GT(named, 0u);
}

TEST(GeneratedKernels, BadSourceIsAClearNvccError) {
  std::string nvcc = findNvcc();
  if (nvcc.empty())
    GTEST_SKIP() << "no nvcc on this machine";
  try {
    compileFatbin("this is not CUDA", nvcc, kCudaArchitectures);
    FAIL() << "nvcc accepted garbage";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("nvcc could not compile"),
              std::string::npos);
  }
}

} // namespace

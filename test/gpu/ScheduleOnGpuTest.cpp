//===- ScheduleOnGpuTest.cpp - e2e programs on both backends -------------===//
//
// Every program of test/e2e/programs is compiled, encrypted once, and its
// schedule run on the CPU backend and on the CUDA backend (with the kernel
// programs interpreted, then as generated kernels): the output ciphertexts
// must agree word for word, also when one executor records its run as a
// CUDA graph and replays it (both backends share the element
// arithmetic, and plaintext constants are encoded on the host for both).
// Without a GPU every test skips with the reason (ctest label `gpu`).
//
//===----------------------------------------------------------------------===//

#include "../unit/TestSupport.h"

#include "cerium/Compiler/Compiler.h"
#include "cerium/Compiler/Session.h"
#include "cerium/Runtime/Schedule.h"
#include "cerium/kernels/CpuBackend.h"
#include "cerium/kernels/CudaBackend.h"

#include "mlir/IR/MLIRContext.h"

#include <filesystem>

using namespace cerium;

namespace {

std::vector<std::string> programs() {
  std::vector<std::string> names;
  for (const auto &entry :
       std::filesystem::directory_iterator(CERIUM_E2E_PROGRAMS_DIR))
    if (entry.path().extension() == ".fhe")
      names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

class ScheduleOnGpuTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScheduleOnGpuTest, SameCiphertextsAsTheCpu) {
  std::string why;
  if (!kernels::cudaDeviceAvailable(&why))
    GTEST_SKIP() << "no CUDA device (" << why << "): GPU test skipped";
  CERIUM_SEEDED_PRNG(prng);
  mlir::MLIRContext context;
  CompileOptions options;
  options.insecure = true;
  auto source = dsl::SourceFile::read(std::string(CERIUM_E2E_PROGRAMS_DIR) +
                                      "/" + GetParam() + ".fhe");
  Compilation c = compile(source, context, options);
  auto cpu = kernels::createCpuBackend(c.params->rns());
  auto gpu = kernels::createCudaBackend(c.params->rns());

  session::KeySet client = session::generateKeys(
      c.params, runtime::requiredKeys(c.main()), *cpu, prng);
  const ckks::EvalKeys &keys = client.eval;
  std::vector<std::vector<double>> values;
  for (const auto &info : c.program.inputs) {
    size_t n = 1;
    for (int64_t d : info.shape)
      n *= size_t(d);
    values.emplace_back(n);
    for (double &v : values.back())
      v = 2 * prng.uniformReal() - 1;
  }
  auto inputs =
      session::encryptValues(c.params, values, client.pub, *cpu, prng);
  auto onCpu = runtime::runSchedule(c.main(), c.params, *cpu, keys, inputs);
  // First the device interpreter of the kernel programs, then the generated
  // kernels (compiled by NVRTC, the load-time path).
  auto interpreted =
      runtime::runSchedule(c.main(), c.params, *gpu, keys, inputs);
  gpu->loadGeneratedKernels(runtime::generateCudaKernels(c.main(), *c.params),
                            {});
  auto onGpu = runtime::runSchedule(c.main(), c.params, *gpu, keys, inputs);
  ASSERT_EQ(onCpu.size(), interpreted.size());
  for (size_t i = 0; i < onCpu.size(); ++i)
    EXPECT_TRUE(onCpu[i].value.data == interpreted[i].value.data)
        << "output " << i << " differs (device interpreter)";
  ASSERT_EQ(onCpu.size(), onGpu.size());
  for (size_t i = 0; i < onCpu.size(); ++i) {
    EXPECT_EQ(onCpu[i].level(), onGpu[i].level());
    EXPECT_TRUE(onCpu[i].value.data == onGpu[i].value.data)
        << "output " << i << " differs (generated kernels)";
  }
  // One executor, three runs: warm-up, recorded as a CUDA graph, replayed.
  runtime::ScheduleExecutor executor(c.main(), c.params, *gpu);
  for (const char *run : {"warm-up", "recorded", "replayed"}) {
    auto again = executor.run(keys, inputs);
    for (size_t i = 0; i < onCpu.size(); ++i)
      EXPECT_TRUE(onCpu[i].value.data == again[i].value.data)
          << "output " << i << " differs (" << run << " run)";
  }
  // Past the device's memory: every key and constant copied from the host
  // into the staging buffers at each use, over runs that are not recorded.
  runtime::ScheduleExecutor staged(c.main(), c.params, *gpu);
  staged.setDeviceBudget(0);
  for (const char *run : {"first", "second"}) {
    auto again = staged.run(keys, inputs);
    for (size_t i = 0; i < onCpu.size(); ++i)
      EXPECT_TRUE(onCpu[i].value.data == again[i].value.data)
          << "output " << i << " differs (" << run << " staged run)";
  }
}

INSTANTIATE_TEST_SUITE_P(Programs, ScheduleOnGpuTest,
                         ::testing::ValuesIn(programs()),
                         [](const auto &info) { return info.param; });

} // namespace

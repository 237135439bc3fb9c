//===- cerium.cpp - The client: keygen, encrypt, decrypt ------------------===//
//
// The only tool that creates or reads secret keys (CLI.md's trust model).
//
//===----------------------------------------------------------------------===//

#include "cerium/CKKS/Serialization.h"
#include "cerium/Compiler/Session.h"
#include "cerium/kernels/CpuBackend.h"

#include "mlir/IR/MLIRContext.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

using namespace cerium;
namespace fs = std::filesystem;

int main(int argc, char **argv) {
  CLI::App app{"cerium: client-side key generation, encryption, decryption"};
  app.require_subcommand(1);
  std::string program, keyDir, output, ctFile;
  std::vector<std::string> inputs;

  auto *keygen = app.add_subcommand("keygen", "generate keys for a program");
  keygen->add_option("program", program, "PROGRAM.cerium")->required();
  keygen->add_option("-o", keyDir, "key directory")->required();

  auto *encrypt = app.add_subcommand("encrypt", "encrypt a program's inputs");
  encrypt->add_option("program", program, "PROGRAM.cerium")->required();
  encrypt->add_option("--keys", keyDir, "key directory")->required();
  encrypt->add_option("--input", inputs, "NAME=FILE.npy")->required();
  encrypt->add_option("-o", output, "INPUTS.ct")->required();

  auto *decrypt = app.add_subcommand("decrypt", "decrypt a program's outputs");
  decrypt->add_option("program", program, "PROGRAM.cerium")->required();
  decrypt->add_option("--keys", keyDir, "key directory")->required();
  decrypt->add_option("outputs", ctFile, "OUTPUTS.ct")->required();
  decrypt->add_option("-o", output, "output directory")->required();

  CLI11_PARSE(app, argc, argv);
  try {
    mlir::MLIRContext context;
    Artifact artifact = readArtifact(program, context);
    auto backend = kernels::createCpuBackend(artifact.params->rns());
    const ckks::Params &params = *artifact.params;
    auto key = [&](const char *name) {
      return (fs::path(keyDir) / name).string();
    };
    if (keygen->parsed()) {
      Prng prng;
      session::generateKeyFiles(keyDir, artifact, *backend, prng);
    } else if (encrypt->parsed()) {
      auto in = session::readInputs(artifact, session::parseInputArgs(inputs),
                                    session::InputKinds::Cipher);
      ckks::Provenance keysFor;
      ckks::PublicKey pk =
          ckks::loadPublicKey(key("public.key"), params, &keysFor);
      session::checkProvenance(artifact, keysFor, key("public.key"), "keys");
      Prng prng;
      ckks::saveCiphertexts(
          output, params,
          session::encryptInputs(artifact, in, pk, *backend, prng), keysFor,
          ckks::CiphertextRole::Inputs);
    } else {
      ckks::Provenance keysFor, outputsFor;
      ckks::CiphertextRole role;
      ckks::SecretKey sk =
          ckks::loadSecretKey(key("secret.key"), params, &keysFor);
      session::checkProvenance(artifact, keysFor, key("secret.key"), "keys");
      auto cts = ckks::loadCiphertexts(ctFile, params, &outputsFor, &role);
      session::checkRole(role, ckks::CiphertextRole::Outputs, ctFile);
      session::checkProvenance(artifact, outputsFor, ctFile, "ciphertexts",
                               keysFor.keySet, key("secret.key"));
      session::checkOutputs(artifact, cts, ctFile);
      session::writeOutputs(
          output, session::decryptOutputs(artifact, cts, sk, *backend));
    }
    return 0;
  } catch (const Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

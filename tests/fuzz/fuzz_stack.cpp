// Fuzz target: the bytes are a stack.lua, loaded in the sandbox with the default
// instruction budget and memory cap. Any outcome but a crash is fine: a stack that does not
// load must say why (a UserError or ScriptError), never take seam down.
#include "bindings/stack_loader.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace seam;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = (fuzz::quiet(), true);
  (void)init;
  std::string path = fuzz::write_input("stack.lua", data, size);
  try {
    LoadedStack stack = load_stack(path, LuaLimits{});
  } catch (const UserError&) {
  } catch (const ScriptError&) {
  }
  return 0;
}

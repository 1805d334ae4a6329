// A main() for the fuzz targets where libFuzzer is not available (GCC
// builds): feeds every file named on the command line, or found directly
// inside a directory named there, to LLVMFuzzerTestOneInput once. The seed
// corpus and the regression inputs run this way in every build, so that a
// crash found by fuzzing stays fixed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

namespace {

// Runs the target on the bytes of the file at "path"; false when it cannot
// be read.
bool RunFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                         bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (!entry.is_regular_file()) continue;
        if (!RunFile(entry.path())) return 1;
        ++inputs;
      }
    } else if (std::filesystem::exists(arg, ec)) {
      if (!RunFile(arg)) return 1;
      ++inputs;
    }
  }
  std::printf("%d inputs replayed without a finding\n", inputs);
  return inputs > 0 ? 0 : 1;
}

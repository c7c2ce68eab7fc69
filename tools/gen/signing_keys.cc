#include "tools/gen/signing_keys.h"

namespace tachyon::gen {

Result<SigningKeys> load_signing_keys(const std::string& path, auth::KeyFileFormat format, uint32_t key_id) {
  using R = Result<SigningKeys>;
  auth::KeyFileResult file = auth::load_key_file(path, format);
  if (!file.ok()) {
    std::string message = "--keys: " + std::to_string(file.errors.size()) +
                          (file.errors.size() == 1 ? " error" : " errors") + " in the keys file:";
    for (const auth::KeyFileError& e : file.errors) message += "\n  " + e.to_string();
    return R::error(message);
  }
  SigningKeys k;
  for (const auth::KeyFileError& w : file.warnings) k.warnings.push_back(w.to_string());
  k.store = std::move(file.keys);
  k.key = k.store.find(key_id);
  if (k.key == nullptr) {
    std::string ids;
    size_t listed = 0;
    for (const auth::Key& key : k.store.keys()) {
      if (listed++ == 10) {
        ids += ", ...";
        break;
      }
      ids += (ids.empty() ? "" : ", ") + std::to_string(key.id);
    }
    return R::error("--mac-key-id " + std::to_string(key_id) + ": " + path + " has no such key (" +
                    (ids.empty() ? std::string("it has none") : "its keys: " + ids) + ")");
  }
  return k;
}

}  // namespace tachyon::gen

#include "pg/guc.hpp"

namespace tenancy::pg {

void set_internal_setting(const char* name, const std::string& value, SettingScope scope) {
    const char* text = value.c_str();
    GucAction action = scope == SettingScope::transaction ? GUC_ACTION_LOCAL : GUC_ACTION_SET;
    call([&] {
        (void)set_config_option(name, text, PGC_SUSET, PGC_S_SESSION, action, true, ERROR,
                                false);
    });
}

}  // namespace tenancy::pg

#include "pg/guc.hpp"

#include <algorithm>
#include <cstring>

namespace tenancy::pg {

void set_internal_setting(const char* name, const std::string& value, SettingScope scope) {
    const char* text = value.c_str();
    GucAction action = scope == SettingScope::transaction ? GUC_ACTION_LOCAL : GUC_ACTION_SET;
    call([&] {
        (void)set_config_option(name, text, PGC_SUSET, PGC_S_SESSION, action, true, ERROR,
                                false);
    });
}

bool setting_set_in_transaction(const char* name) {
    // The record of a defined setting stays where it is for the life of the
    // backend (the array of pointers to the records may move).
    static struct config_generic* record = nullptr;
    static std::string record_name;
    if (record == nullptr || record_name != name) {
        struct config_generic** all = get_guc_variables();
        int count = GetNumConfigOptions();
        record = nullptr;
        for (int i = 0; i < count; ++i) {
            if (std::strcmp(all[i]->name, name) == 0) record = all[i];
        }
        if (record == nullptr) {
            throw Error(ERRCODE_UNDEFINED_OBJECT,
                        std::string("unrecognized configuration parameter \"") + name + "\"");
        }
        record_name = name;
    }
    return record->stack != nullptr && record->source == PGC_S_SESSION;
}

LockDeadline::LockDeadline(int wait_ms) : wait_ms_(wait_ms) {
    if (LockTimeout > 0 && (wait_ms_ == 0 || LockTimeout < wait_ms_)) wait_ms_ = LockTimeout;
    deadline_ = GetCurrentTimestamp() + static_cast<TimestampTz>(wait_ms_) * 1000;
}

void LockDeadline::before_wait() const {
    if (wait_ms_ == 0) return;
    TimestampTz left_us = std::max<TimestampTz>(deadline_ - GetCurrentTimestamp(), 1000);
    std::string left_ms = std::to_string((left_us + 999) / 1000);
    call([&] {
        (void)set_config_option("lock_timeout", left_ms.c_str(), PGC_USERSET, PGC_S_SESSION,
                                GUC_ACTION_SAVE, true, 0, false);
    });
}

}  // namespace tenancy::pg

#include "pg/guc.hpp"

#include <algorithm>

namespace tenancy::pg {

void set_internal_setting(const char* name, const std::string& value, SettingScope scope) {
    const char* text = value.c_str();
    GucAction action = scope == SettingScope::transaction ? GUC_ACTION_LOCAL : GUC_ACTION_SET;
    call([&] {
        (void)set_config_option(name, text, PGC_SUSET, PGC_S_SESSION, action, true, ERROR,
                                false);
    });
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

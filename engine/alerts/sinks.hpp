#pragma once
// The three places an alert can go. Each call is one delivery attempt: it returns an
// empty string when the destination took the payload, else what went wrong.
#include <string>
#include <vector>

namespace seam {

// Appends the payload (NDJSON lines) to the file and syncs it to disk.
std::string append_to_file(const std::string& path, const std::string& payload);
// Runs argv[0] with argv in `cwd`, the payload on its stdin; delivered when it exits 0
// within the timeout (else it is killed).
std::string run_command(const std::vector<std::string>& argv, const std::string& cwd, const std::string& payload,
                        int timeout_seconds);
// POSTs the payload as application/json; delivered on a 2xx answer within the timeout.
std::string post_webhook(const std::string& url, const std::string& payload, int timeout_seconds);

}  // namespace seam

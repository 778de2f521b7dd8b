#pragma once
// The chat requests the model-backed handlers send. The user's text travels as a JSON string
// inside the prompt, so that quotes or instructions in it cannot change the prompt's structure.
#include <span>
#include <string>
#include <string_view>

#include "kinds/ai/inference_client.hpp"
#include "kinds/ai/payload.hpp"
#include "kinds/ai/results_store.hpp"

namespace spool::kinds::ai {

// Longer activity texts are cut (at a UTF-8 character boundary) before they reach the model.
inline constexpr std::size_t max_prompt_text_bytes = 8000;

chat_request analysis_prompt(const activity& a);

// `sources` as read from the store (newest first); the prompt lists them oldest first.
chat_request profile_prompt(std::string_view user_id, std::span<const activity_result> sources);

// `text` cut to at most `max_bytes` without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

}  // namespace spool::kinds::ai

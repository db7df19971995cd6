package openai

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/yardstick-eval/yardstick/providers"
)

// This file holds every conversion between Yardstick's providers types and
// go-openai's.

type convertOptions struct {
	maxTokensParam   string // MaxTokens, MaxCompletionTokens or "" (auto)
	strictSchema     bool
	structuredOutput string // StructuredJSONSchema ("" too), StructuredJSONObject or StructuredNone
}

// reasoningModel reports whether model is one of OpenAI's reasoning models,
// which reject max_tokens (and which go-openai refuses to send it for).
func reasoningModel(model string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}

// toChatRequest converts req. The returned patch holds body fields that
// go-openai cannot express and the transport writes verbatim: temperature
// and top_p whenever they are set (go-openai's float32 omitempty fields
// would drop 0 and round other values).
func toChatRequest(req *providers.Request, o convertOptions) (goopenai.ChatCompletionRequest, map[string]any, error) {
	var c goopenai.ChatCompletionRequest
	if req.Model == "" {
		return c, nil, errors.New("request has no model")
	}
	c.Model = req.Model
	if req.System != "" {
		c.Messages = append(c.Messages, goopenai.ChatCompletionMessage{Role: goopenai.ChatMessageRoleSystem, Content: req.System})
	}
	for i, m := range req.Messages {
		msg, err := toChatMessage(m)
		if err != nil {
			return c, nil, fmt.Errorf("messages[%d]: %w", i, err)
		}
		c.Messages = append(c.Messages, msg)
	}
	if len(c.Messages) == 0 {
		return c, nil, errors.New("request has no messages")
	}
	if req.MaxTokens < 0 {
		return c, nil, fmt.Errorf("max tokens %d is negative", req.MaxTokens)
	}
	if req.MaxTokens > 0 {
		param := o.maxTokensParam
		if param == MaxTokensAuto {
			param = MaxTokens
			if reasoningModel(req.Model) {
				param = MaxCompletionTokens
			}
		}
		if param == MaxCompletionTokens {
			c.MaxCompletionTokens = req.MaxTokens
		} else {
			c.MaxTokens = req.MaxTokens
		}
	}
	patch := map[string]any{}
	if req.Temperature != nil {
		patch["temperature"] = *req.Temperature
	}
	if req.TopP != nil {
		patch["top_p"] = *req.TopP
	}
	if req.Seed != nil {
		s := int(*req.Seed)
		c.Seed = &s // a pointer in go-openai: 0 is sent
	}
	c.Stop = req.Stop
	if len(req.JSONSchema) > 0 {
		if !json.Valid(req.JSONSchema) {
			return c, nil, errors.New("json schema is not valid JSON")
		}
	}
	switch {
	case len(req.JSONSchema) == 0, o.structuredOutput == StructuredNone:
	case o.structuredOutput == StructuredJSONObject:
		c.ResponseFormat = &goopenai.ChatCompletionResponseFormat{Type: goopenai.ChatCompletionResponseFormatTypeJSONObject}
	default:
		c.ResponseFormat = &goopenai.ChatCompletionResponseFormat{
			Type: goopenai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &goopenai.ChatCompletionResponseFormatJSONSchema{
				Name:   "response",
				Schema: json.RawMessage(req.JSONSchema),
				Strict: o.strictSchema,
			},
		}
	}
	return c, patch, nil
}

// fromUsage converts token counts.
func fromUsage(u goopenai.Usage) providers.Usage {
	out := providers.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens}
	if u.PromptTokensDetails != nil {
		out.CachedInputTokens = u.PromptTokensDetails.CachedTokens
	}
	return out
}

// finishReason normalises go-openai's finish reason ("null" is empty).
func finishReason(r goopenai.FinishReason) string {
	switch r {
	case goopenai.FinishReasonNull:
		return ""
	case goopenai.FinishReasonFunctionCall:
		return string(goopenai.FinishReasonToolCalls)
	}
	return string(r)
}

// fromChatResponse converts a completed chat completion. A response without
// choices is an error.
func fromChatResponse(r goopenai.ChatCompletionResponse) (*providers.Response, error) {
	if len(r.Choices) == 0 {
		return nil, errors.New("response has no choices")
	}
	ch := r.Choices[0]
	text := ch.Message.Content
	if text == "" && ch.Message.Refusal != "" {
		text = ch.Message.Refusal
	}
	return &providers.Response{
		Text:         text,
		FinishReason: finishReason(ch.FinishReason),
		Model:        r.Model,
		Usage:        fromUsage(r.Usage),
	}, nil
}

// streamDelta is what one stream chunk contributes.
type streamDelta struct {
	text, finish, model string
	usage               *providers.Usage
}

// fromStreamChunk extracts the first choice's delta, finish reason, model
// and usage from a stream chunk.
func fromStreamChunk(r goopenai.ChatCompletionStreamResponse) streamDelta {
	d := streamDelta{model: r.Model}
	if r.Usage != nil {
		u := fromUsage(*r.Usage)
		d.usage = &u
	}
	for _, ch := range r.Choices {
		if ch.Index != 0 {
			continue
		}
		d.text = ch.Delta.Content
		if d.text == "" && ch.Delta.Refusal != "" {
			d.text = ch.Delta.Refusal
		}
		d.finish = finishReason(ch.FinishReason)
	}
	return d
}

// toChatMessage converts one message. A message with images becomes
// multi-part content, the text first and then each image as an image_url
// part holding a base64 data URL, as the chat completions API documents;
// a text-only message keeps the plain string content.
func toChatMessage(m providers.Message) (goopenai.ChatCompletionMessage, error) {
	if len(m.Images) == 0 {
		return goopenai.ChatCompletionMessage{Role: m.Role, Content: m.Content}, nil
	}
	if m.Role != providers.RoleUser && m.Role != "" {
		return goopenai.ChatCompletionMessage{}, fmt.Errorf("role %q cannot carry images (only user messages can)", m.Role)
	}
	msg := goopenai.ChatCompletionMessage{Role: providers.RoleUser}
	if m.Content != "" {
		msg.MultiContent = append(msg.MultiContent, goopenai.ChatMessagePart{Type: goopenai.ChatMessagePartTypeText, Text: m.Content})
	}
	for j, im := range m.Images {
		if im.MIMEType == "" || len(im.Data) == 0 {
			return goopenai.ChatCompletionMessage{}, fmt.Errorf("images[%d]: empty image or MIME type", j)
		}
		msg.MultiContent = append(msg.MultiContent, goopenai.ChatMessagePart{
			Type:     goopenai.ChatMessagePartTypeImageURL,
			ImageURL: &goopenai.ChatMessageImageURL{URL: "data:" + im.MIMEType + ";base64," + base64.StdEncoding.EncodeToString(im.Data)},
		})
	}
	return msg, nil
}

// Package action holds the scripts of Yardstick's GitHub Action (action.yml
// at the repository root) and their tests: the tests run the action's steps
// as a runner would — against a fake OpenAI-compatible provider and a fake
// GitHub API — and lint the action, the starter workflow `yardstick init`
// writes and the GitLab snippet offline. It has no Go API.
package action

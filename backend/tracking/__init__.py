"""Real-time tracking: events recorded with each change, published after the commit, streamed as SSE."""

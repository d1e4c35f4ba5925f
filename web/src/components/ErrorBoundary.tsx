import { Component } from "react";
import type { ReactNode } from "react";

/**
 * A page that throws while rendering, or whose code cannot be loaded (a new build replaced the
 * hashed file this tab's index.html names), shows a message and a reload button instead of a
 * blank screen.
 */
export class ErrorBoundary extends Component<
  { message: string; reload: string; children: ReactNode },
  { failed: boolean }
> {
  state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div role="alert" className="card narrow" data-testid="page-error">
        <p>{this.props.message}</p>
        <button type="button" onClick={() => window.location.reload()}>
          {this.props.reload}
        </button>
      </div>
    );
  }
}

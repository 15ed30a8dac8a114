/**
 * The viewer's React and the extension's cannot be shared (hooks of one do not run under the
 * other). So what OHIF renders is one tiny class component that draws an empty element; the
 * extension mounts its own React root inside it. A class needs no hooks, and its element is a
 * plain React 18 element object, which the viewer's React renders.
 */
import { Component, createElement, createRef, type ReactElement } from 'react';
import { createRoot } from 'react-dom/client';

/** A panel component OHIF can render, with a `mount` that does the same into any element. */
export interface BridgedPanel<P> {
  new (props: P): Component<P>;
  /** Mounts the panel's own React root into `element`; returns the unmount. */
  mount(element: HTMLElement, props: P): () => void;
  displayName: string;
}

export function bridgePanel<P extends object>(name: string, render: (props: P) => ReactElement): BridgedPanel<P> {
  const mount = (element: HTMLElement, props: P): (() => void) => {
    const root = createRoot(element);
    root.render(render(props));
    // Unmounting a root while the viewer's React is committing is refused: defer it.
    return () => setTimeout(() => root.unmount(), 0);
  };

  class LimenPanelBridge extends Component<P> {
    static mount = mount;
    static displayName = `LimenPanel(${name})`;
    readonly #element = createRef<HTMLDivElement>();
    #unmount: (() => void) | null = null;

    override componentDidMount(): void {
      if (this.#element.current) this.#unmount = mount(this.#element.current, this.props);
    }

    override componentWillUnmount(): void {
      this.#unmount?.();
      this.#unmount = null;
    }

    override shouldComponentUpdate(): boolean {
      // The inner root renders itself; the viewer's re-renders need not reach it.
      return false;
    }

    override render(): ReactElement {
      return createElement('div', { ref: this.#element, 'data-limen-panel': name, style: { height: '100%', overflow: 'auto' } });
    }
  }
  return LimenPanelBridge as unknown as BridgedPanel<P>;
}

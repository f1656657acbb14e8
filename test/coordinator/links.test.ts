/**
 * The coordinator's combined link: frames to a device go out on the link it was last heard on, a device
 * that moves links is followed, a whole link going down takes only its own devices down, and a device not
 * heard from since start is tried on the fallback link.
 */
import { describe, expect, it } from 'vitest';
import { combineLinks } from '../../coordinator/links.js';
import { createMemoryNetwork } from '../../shared/transport/memory.js';
import { ClosedError } from '../../shared/transport/errors.js';
import type { LinkEvent } from '../../shared/transport/link.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

function world() {
  const a = createMemoryNetwork();
  const b = createMemoryNetwork();
  const combined = combineLinks('hub', { a: a.connect('hub'), b: b.connect('hub') });
  const events: string[] = [];
  combined.onEvent((e: LinkEvent) => events.push(`${e.type}:${e.peer ?? '*'}`));
  const got: string[] = [];
  const device = (net: ReturnType<typeof createMemoryNetwork>, id: string) => {
    const link = net.connect(id);
    link.onFrame((f) => void got.push(`${id}<-${new TextDecoder().decode(f)}`));
    return link;
  };
  return { a, b, combined, events, got, device };
}

describe('combined link', () => {
  it('routes each device over the link it is on, and follows a device that moves', async () => {
    const w = world();
    w.device(w.a, 'd1');
    const d2 = w.device(w.b, 'd2');
    await tick();
    expect(w.combined.routes()).toEqual({ d1: 'a', d2: 'b' });
    await w.combined.send('d1', new TextEncoder().encode('x'));
    await w.combined.send('d2', new TextEncoder().encode('y'));
    await tick();
    expect(w.got.sort()).toEqual(['d1<-x', 'd2<-y']);
    await d2.close();
    await tick();
    expect(w.events).toContain('down:d2');
    w.device(w.a, 'd2'); // back, on the other link
    await tick();
    expect(w.combined.routes().d2).toBe('a');
    await w.combined.send('d2', new TextEncoder().encode('z'));
    await tick();
    expect(w.got).toContain('d2<-z');
  });

  it('takes down only the devices of a link that went down as a whole', async () => {
    const w = world();
    w.device(w.a, 'd1');
    w.device(w.b, 'd2');
    await tick();
    w.a.interrupt('hub', 1000);
    await tick();
    expect(w.events).toContain('down:d1');
    expect(w.events).not.toContain('down:d2');
    expect(w.events).not.toContain('down:*');
    expect(w.combined.online()).toEqual(['d2']);
  });

  it('refuses a device never heard from, unless a fallback link is set', async () => {
    const w = world();
    await expect(w.combined.send('ghost', new Uint8Array(1))).rejects.toBeInstanceOf(ClosedError);
    const net = createMemoryNetwork();
    const viaFallback = combineLinks('hub', { mqtt: net.connect('hub') }, { fallback: 'mqtt' });
    const got: string[] = [];
    net.connect('quiet').onFrame(() => void got.push('frame'));
    await viaFallback.send('quiet', new Uint8Array(1));
    await tick();
    expect(got).toEqual(['frame']);
  });
});

package io.polycall.ffi.internal;

import io.polycall.Status;
import io.polycall.Value;
import java.util.Arrays;

/**
 * The native pointers a caller holds, as {@link Value.Handle}s: a slot number and a generation,
 * never the address itself. A caller cannot forge a pointer (an id names a slot, not memory), and a
 * handle kept after {@code release} is refused because the slot's generation moved on.
 *
 * <pre>
 *   slot:        0          1          2
 *   address   [ 0x7f..10 | 0        | 0x7f..80 ]
 *   kind      [ "ptr"    | null     | "counter"]   null: free
 *   generation[ 1        | 4        | 2        ]   bumped on every release
 * </pre>
 *
 * Thread-safe (one lock; every operation is a few array accesses).
 */
final class HandleTable {
  private long[] addresses = new long[16];
  private String[] kinds = new String[16];
  private int[] generations = new int[16];
  private int[] freeList = new int[16];
  private int freeCount;
  private int used;

  synchronized Value.Handle put(String kind, long address) {
    int slot;
    if (freeCount > 0) {
      slot = freeList[--freeCount];
    } else {
      if (used == addresses.length) {
        int n = used * 2;
        addresses = Arrays.copyOf(addresses, n);
        kinds = Arrays.copyOf(kinds, n);
        generations = Arrays.copyOf(generations, n);
        freeList = Arrays.copyOf(freeList, n);
      }
      slot = used++;
    }
    addresses[slot] = address;
    kinds[slot] = kind;
    return new Value.Handle(kind, slot, generations[slot]);
  }

  /**
   * The address behind a handle.
   *
   * @throws io.polycall.StatusException INVALID_ARGUMENT for a handle this table never issued or of
   *     another kind; FAILED_PRECONDITION for one already released
   */
  synchronized long address(Value.Handle h, String kind) {
    int slot = check(h, kind);
    return addresses[slot];
  }

  /** Drops a handle; later uses fail. Same errors as {@link #address}. */
  synchronized void release(Value.Handle h, String kind) {
    int slot = check(h, kind);
    kinds[slot] = null;
    addresses[slot] = 0;
    generations[slot]++;
    freeList[freeCount++] = slot;
  }

  private int check(Value.Handle h, String kind) {
    if (!h.kind().equals(kind)) {
      throw Status.INVALID_ARGUMENT
          .withDescription(h + " is a handle<" + h.kind() + ">, expected handle<" + kind + ">")
          .asException();
    }
    long id = h.id();
    if (id < 0 || id >= used) {
      throw Status.INVALID_ARGUMENT
          .withDescription(h + " was not issued by this native bridge")
          .asException();
    }
    int slot = (int) id;
    if (generations[slot] != h.generation() || !kind.equals(kinds[slot])) {
      throw Status.FAILED_PRECONDITION
          .withDescription(h + " was released (or is not from this bridge); it cannot be used")
          .asException();
    }
    return slot;
  }
}

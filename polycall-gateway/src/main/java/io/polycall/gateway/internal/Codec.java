package io.polycall.gateway.internal;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import io.polycall.Status;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;

/**
 * The two body formats of the gateway, JSON and CBOR, both read into and written from Jackson trees
 * (so {@link io.polycall.gateway.JsonValues} serves both). Thread-safe.
 */
public enum Codec {
  JSON("application/json", new JsonMapper()),
  CBOR("application/cbor", new CBORMapper());

  private final String mediaType;
  private final ObjectMapper mapper;

  Codec(String mediaType, ObjectMapper mapper) {
    this.mediaType = mediaType;
    this.mapper = mapper;
  }

  public String mediaType() {
    return mediaType;
  }

  /** The codec of a Content-Type header value (parameters such as charset ignored), or null. */
  public static Codec ofContentType(String header) {
    if (header == null) {
      return null;
    }
    String type = header.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    return switch (type) {
      case "application/json", "text/json" -> JSON;
      case "application/cbor" -> CBOR;
      default -> null;
    };
  }

  /**
   * The codec an Accept header asks for: the first of JSON and CBOR it lists, {@code fallback} for
   * no header or a wildcard, null when it accepts neither.
   */
  public static Codec ofAccept(String header, Codec fallback) {
    if (header == null || header.isBlank()) {
      return fallback;
    }
    Codec best = null;
    double bestQ = 0;
    for (String part : header.split(",")) {
      String[] fields = part.split(";");
      String type = fields[0].trim().toLowerCase(Locale.ROOT);
      double q = 1;
      for (int i = 1; i < fields.length; i++) {
        String f = fields[i].trim();
        if (f.startsWith("q=")) {
          try {
            q = Double.parseDouble(f.substring(2));
          } catch (NumberFormatException e) {
            q = 0;
          }
        }
      }
      Codec c =
          switch (type) {
            case "*/*", "application/*" -> fallback;
            default -> ofContentType(type);
          };
      if (c != null && q > bestQ) {
        best = c;
        bestQ = q;
      }
    }
    return best;
  }

  /**
   * Reads a body; INVALID_ARGUMENT saying where it stops being valid.
   *
   * @return the tree, or null for an empty body
   */
  public JsonNode read(InputStream in, String what) {
    try {
      JsonNode node = mapper.readTree(in);
      return node == null || node.isMissingNode() ? null : node;
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where =
          at == null
              ? ""
              : this == JSON
                  ? " at line " + at.getLineNr() + ", column " + at.getColumnNr()
                  : " at byte " + at.getByteOffset();
      throw Status.INVALID_ARGUMENT
          .withDescription(what + " is not valid " + name() + where + ": " + e.getOriginalMessage())
          .asException();
    } catch (IOException e) {
      throw Status.INVALID_ARGUMENT
          .withDescription(what + " cannot be read: " + e.getMessage())
          .asException();
    }
  }

  /** Jackson's message without its "(start marker at [Source: ...])", which says nothing here. */
  private static String withoutSource(String message) {
    return message == null
        ? ""
        : message.replaceAll("\\s*\\(start marker at \\[Source:[^\\]]*\\]\\)", "");
  }

  /** A tree as bytes of this format. */
  public byte[] write(JsonNode node) {
    try {
      return mapper.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw Status.INTERNAL
          .withDescription("cannot write the response as " + name() + ": " + e.getMessage())
          .withCause(e)
          .asException();
    }
  }
}

/** Custom search attributes, registered by scripts/stack.sh (`--search-attribute`) and upserted by the workflows. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const KM_MIGRATION = defineSearchAttributeKey('KmMigration', SearchAttributeType.KEYWORD);
export const KM_PHASE = defineSearchAttributeKey('KmPhase', SearchAttributeType.KEYWORD);
export const KM_BUSINESS_SYSTEM = defineSearchAttributeKey('KmBusinessSystem', SearchAttributeType.KEYWORD);
export const KM_BATCH = defineSearchAttributeKey('KmBatch', SearchAttributeType.INT);

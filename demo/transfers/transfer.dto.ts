import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Length, Max, Min } from 'class-validator';

export class TransferDto {
  @ApiProperty({ example: 'checking' })
  @IsString()
  @Length(1, 32)
  from!: string;

  @ApiProperty({ example: 'savings' })
  @IsString()
  @Length(1, 32)
  to!: string;

  @ApiProperty({ description: 'Amount in cents', example: 2500 })
  @IsInt()
  @Min(1)
  @Max(100_000_000)
  amount!: number;
}
